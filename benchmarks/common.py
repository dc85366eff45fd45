"""What every grading benchmark does first: the data to use, PATH, and the test helpers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def prepare(data: str | None) -> None:
    """Use ``data`` (an idx folder or mnist.npz) or, without it, the embedded sample."""
    from course_lib.lesson.constants import QUIET_TENSORFLOW

    os.environ.setdefault(*QUIET_TENSORFLOW)
    # nbgrader starts `alembic` and the kernel from PATH.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    if data:
        os.environ["COURSE_MNIST_PATH"] = str(Path(data).resolve())
    else:
        os.environ.pop("COURSE_MNIST_PATH", None)
        os.environ["COURSE_MNIST_OFFLINE"] = "1"
    # The benchmarks hand in submissions the way the tests do.
    sys.path.insert(0, str(ROOT / "tests"))


def data_name(data: str | None, source) -> str:
    """The data as the tables name it: a Fashion-MNIST folder is a stand-in, not MNIST."""
    if data and "fashion" in str(data).lower():
        return (f"Fashion-MNIST ({Path(data).resolve()}), a stand-in with MNIST's size, "
                f"graded as {source.kind} data")
    return str(source)


def write_table(name: str, kind: str, text: str) -> Path:
    """Print a result table and keep it in ``benchmarks/results/<name>-<kind>.md``."""
    print(text)
    out = ROOT / "benchmarks" / "results" / f"{name}-{kind}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    print(f"written to {out.relative_to(ROOT)}")
    return out
