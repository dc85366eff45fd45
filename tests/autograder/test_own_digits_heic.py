"""Does the grader count an iPhone photo (HEIC) of an own digit, inside its sandbox?"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image

from course_lib.autograder import own_digits, sandbox
from course_lib.teacher import demo

SAMPLES = Path(__file__).resolve().parents[2] / "source" / "mnist_cnn" / "sample_digits"


def heic_of(png: Path) -> bytes:
    """The picture in ``png`` as an iPhone stores a photo: HEIC."""
    out = io.BytesIO()
    with Image.open(png) as picture:
        pillow_heif.from_pillow(picture.convert("RGB")).save(out, quality=90)
    return out.getvalue()


@pytest.mark.skipif(not sandbox.sandbox_available(), reason="needs bubblewrap")
def test_heic_own_digits_count_in_the_sandbox(tmp_path):
    """Are .heic/.heif pictures handed in copied for the checker and counted there?"""
    submission = tmp_path / "submission"
    (submission / "sample_digits").mkdir(parents=True)
    for sample in SAMPLES.iterdir():
        (submission / "sample_digits" / sample.name).write_bytes(sample.read_bytes())
    written = demo.write_own_digits(tmp_path / "drawn")
    (submission / "own_digits").mkdir()
    for path, suffix in zip(written, [".heic", ".HEIF", ".png"], strict=True):
        data = path.read_bytes() if suffix == ".png" else heic_of(path)
        (submission / "own_digits" / (path.stem + suffix)).write_bytes(data)
    into = tmp_path / "checker"
    own_digits.gather(submission, into)
    assert sorted(p.name for p in (into / own_digits.OWN).iterdir()) == \
        ["3_mine.heic", "5_mine.HEIF", "8_mine.png"]
    script = ("import json; from pathlib import Path\n"
              "from course_lib.autograder import own_digits\n"
              "print(json.dumps(own_digits.count(Path('.'))))\n")
    box = sandbox.Box(handed_in=into)
    try:
        done = subprocess.run(box.command([sys.executable, "-c", script]), capture_output=True,
                              text=True, timeout=120, check=False, pass_fds=box.pass_fds,
                              preexec_fn=box.preexec())
    finally:
        box.close()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == \
        {"3_mine.heic": None, "5_mine.HEIF": None, "8_mine.png": None}
