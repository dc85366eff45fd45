"""Does `course hub` install the classroom's environments as the accounts need them: the
files the environment's own (copied out of the installer's cache, not linked to it), already
compiled to bytecode (the accounts cannot write it beside root's files), and a clear message
where the installer is missing? The full environments, with TensorFlow, are installed by
the classroom test (tests/teacher/test_classroom.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.teacher.course import CourseError
from course_lib.teacher.hub_environments import install_packages
from course_lib.teacher.package import build_student_wheel


@pytest.fixture
def environment(tmp_path, monkeypatch) -> Path:
    """A fresh virtual environment, its Python; the installer's cache in the test's folder,
    on the same file system as the environment (where a link would be possible)."""
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "env")],
                   check=True, timeout=120)
    return tmp_path / "env" / "bin" / "python"


def test_an_environment_owns_its_files_compiled(environment, tmp_path):
    """The students' package installed (offline, without its dependencies): does it import
    in the environment, are its files its own (one link each), and is every module's
    bytecode there already?"""
    wheel = build_student_wheel(tmp_path / "dist")
    install_packages(environment, "--no-deps", str(wheel))

    found = subprocess.run(
        [str(environment), "-c", "import course_lib.lesson, importlib.metadata as m; "
         "print(course_lib.lesson.__file__); print(m.version('mnist_cnn_course_lib'))"],
        capture_output=True, text=True, check=True, timeout=120, cwd=tmp_path).stdout.split()
    package = Path(found[0]).parent
    assert found[1] == wheel.name.split("-")[1]
    assert package.is_relative_to(environment.parents[1])
    modules = sorted(package.rglob("*.py"))
    assert len(modules) > 5
    linked = [path for path in package.rglob("*") if path.is_file() and path.stat().st_nlink > 1]
    assert linked == [], f"files shared with the installer's cache: {linked[:3]}"
    tag = sys.implementation.cache_tag
    not_compiled = [module.name for module in modules
                    if not (module.parent / "__pycache__" / f"{module.stem}.{tag}.pyc").is_file()]
    assert not_compiled == []


def test_without_the_installer_the_teacher_is_told_what_to_install(environment, monkeypatch):
    """Without uv (the course installed without its hub extra): does `course hub` say what
    to install, instead of a traceback?"""
    monkeypatch.setitem(sys.modules, "uv", None)
    with pytest.raises(CourseError) as refused:
        install_packages(environment, "--no-deps", "anything")
    assert "pip install -e '.[hub]'" in str(refused.value)
    assert "uv" in str(refused.value)
