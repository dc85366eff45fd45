"""Does the grading sandbox start kernels confined, and point them at the right data?"""

from __future__ import annotations

import subprocess
import sys

import pytest

from course_lib import sandbox
from course_lib.data import load_mnist


def option_values(command, flag):
    return [command[i + 1:i + 3] if flag == "--setenv" else command[i + 1]
            for i, word in enumerate(command) if word == flag]


def test_kernel_command_is_confined(tmp_path):
    """Is the root read-only, only the notebook's folder bound writable, pids separate?"""
    command = sandbox.sandbox_command(["-f", "/x/kernel.json"], tmp_path)
    assert command[:4] == ["bwrap", "--ro-bind", "/", "/"]
    assert option_values(command, "--bind") == [str(tmp_path.resolve())]
    assert "--unshare-pid" in command and "--die-with-parent" in command
    assert command[-5:] == [sys.executable, "-m", "ipykernel_launcher", "-f", "/x/kernel.json"]


def test_kernel_reads_the_keras_cache_and_never_downloads(isolated_data):
    """With a full copy in the keras cache, is the kernel sent there, offline?"""
    cache = isolated_data / "datasets" / "mnist.npz"
    cache.parent.mkdir()
    cache.write_bytes(b"placeholder")
    settings = option_values(sandbox.data_settings(), "--setenv")
    assert ["COURSE_MNIST_OFFLINE", "1"] in settings
    assert ["COURSE_MNIST_PATH", str(cache.resolve())] in settings


def test_without_full_copy_the_kernel_uses_the_sample():
    """Without a full copy, is no data path given (so the sample is used)?"""
    settings = option_values(sandbox.data_settings(), "--setenv")
    assert all(name != "COURSE_MNIST_PATH" for name, _ in settings)


def test_grading_notice_is_short_and_for_students(monkeypatch, capsys):
    """While nbgrader grades, does the sample notice speak to the student, not the teacher?"""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    load_mnist()
    out = capsys.readouterr().out
    assert out.startswith("Graded with the embedded MNIST sample")
    assert "course data fetch" not in out


@pytest.mark.skipif(not sandbox.sandbox_available(), reason="needs bubblewrap")
def test_sandboxed_process_can_write_only_its_folder(tmp_path):
    """Run in the same bubblewrap setup, can a process write its folder and TMPDIR only?"""
    (tmp_path / "work").mkdir()
    outside = tmp_path / "outside.txt"
    script = (
        "import os, pathlib\n"
        "pathlib.Path('mine.txt').write_text('ok')\n"
        "pathlib.Path(os.environ['TMPDIR'], 't').write_text('ok')\n"
        f"try:\n    pathlib.Path({str(outside)!r}).write_text('escaped')\n"
        "except OSError as error:\n    print('refused', error.errno)\n"
    )
    command = [*sandbox._bwrap(str(tmp_path / "work")), sys.executable, "-c", script]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "refused 30" in done.stdout  # EROFS: read-only file system
    assert (tmp_path / "work" / "mine.txt").read_text() == "ok"
    assert not outside.exists()
