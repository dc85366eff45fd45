"""Is the students' wheel a standard one that students can upgrade: built by setuptools from
its own configuration, with a version that changes when its content changes (and only
then), the course's Python cap and only the dependencies students need?"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from helpers.course import ROOT
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from course_lib.teacher import package
from course_lib.teacher.cli import main

CHANGED = "course_lib/lesson/plots.py"
MARK = "\n# A newer lesson.\n"


def copy_students_files(into: Path, change: bool) -> Path:
    """A copy of this course's students' files under ``into``, with :data:`CHANGED` changed
    if ``change``; returns the copy's ``course_lib`` folder."""
    for name, path in package.student_files().items():
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, into / name)
    if change:
        with open(into / CHANGED, "a") as changed:
            changed.write(MARK)
    return into / "course_lib"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """Wheels of two contents, as `course package` records them in a fresh record: the
    older content, the same again, the newer content, then the older content once more."""
    folder = tmp_path_factory.mktemp("students-wheels")
    older = copy_students_files(folder / "older", change=False)
    newer = copy_students_files(folder / "newer", change=True)
    record = folder / "versions.txt"
    wheels = {"record": record}
    for key, source in [("older", older), ("again", older), ("newer", newer),
                        ("older later", older)]:
        wheels[key] = package.build_student_wheel(folder / key, package=source,
                                                  versions=record, record=True)
    return wheels


def version_of(wheel: Path) -> Version:
    return Version(wheel.name.split("-")[1])


def wheel_metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        generator = archive.read(name.replace("METADATA", "WHEEL")).decode()
        return Parser().parsestr(archive.read(name).decode()), generator


def test_the_same_content_builds_the_same_version_and_the_same_wheel(built):
    """Built twice, and again after a newer content was recorded: one version, one wheel."""
    assert built["older"].name == built["again"].name == built["older later"].name
    assert built["older"].read_bytes() == built["again"].read_bytes() \
        == built["older later"].read_bytes()


def test_a_changed_content_gets_a_higher_version(built):
    """Does one changed line give a version pip orders after the older one (and after the
    0.1.0 of the earlier wheels)?"""
    course = metadata.version("mnist-cnn-course")
    assert version_of(built["older"]) == Version(f"{course}.post1")
    assert version_of(built["newer"]) == Version(f"{course}.post2")
    assert Version(course) < version_of(built["older"]) < version_of(built["newer"])
    numbers = package.recorded_numbers(built["record"])
    assert sorted(numbers.values()) == [1, 2]


def test_an_unrecorded_content_gets_the_next_number_without_writing_it(tmp_path):
    """Is the record moved on only when asked (by `course package`), never by a build?"""
    record = tmp_path / "versions.txt"
    record.write_text(package.VERSIONS_HEADER + "1 aaaa\n4 bbbb\n")
    course = metadata.version("mnist-cnn-course")
    assert package.students_version("bbbb", record) == f"{course}.post4"
    assert package.students_version("cccc", record) == f"{course}.post5"
    assert package.recorded_numbers(record) == {"aaaa": 1, "bbbb": 4}
    assert package.students_version("cccc", record, record=True) == f"{course}.post5"
    assert package.students_version("dddd", record, record=True) == f"{course}.post6"
    assert package.recorded_numbers(record) == {"aaaa": 1, "bbbb": 4, "cccc": 5, "dddd": 6}


def test_course_package_writes_a_new_contents_number_down(tmp_path, monkeypatch, capsys):
    """Does `course package` record the content it hands out, and say how to install it?"""
    record = tmp_path / "versions.txt"
    monkeypatch.setattr(package, "VERSIONS", record)
    assert main(["package", "--into", str(tmp_path / "dist")]) == 0
    [wheel] = (tmp_path / "dist").glob("*.whl")
    assert wheel.name == f"mnist_cnn_course_lib-{metadata.version('mnist-cnn-course')}" \
                         f".post1-py3-none-any.whl"
    assert record.read_text().startswith(package.VERSIONS_HEADER)
    assert list(package.recorded_numbers(record).values()) == [1]
    assert f"pip install {wheel.name}" in capsys.readouterr().out


def test_the_metadata_has_the_courses_python_and_only_what_students_need(built):
    """Built by setuptools, with the course's Requires-Python, the course's version ranges
    for what the lesson uses, and neither Babel nor nbgrader nor any other teacher's tool."""
    fields, generator = wheel_metadata(built["older"])
    assert generator.splitlines()[1].startswith("Generator: setuptools")
    assert fields["Name"] == "mnist_cnn_course_lib"
    project = metadata.metadata("mnist-cnn-course")  # the course's pyproject.toml, installed
    assert SpecifierSet(fields["Requires-Python"]) == SpecifierSet(project["Requires-Python"])
    assert any(spec.operator == "<" for spec in SpecifierSet(fields["Requires-Python"]))
    required = {canonicalize_name(Requirement(r).name): Requirement(r)
                for r in fields.get_all("Requires-Dist")}
    assert {"babel", "nbgrader", "bleach", "setuptools"}.isdisjoint(required)
    assert {"tensorflow", "tensorflow-cpu", "keras", "numpy", "matplotlib", "pillow",
            "pillow-heif", "scipy", "mlxtend", "anywidget"} <= set(required)
    course = {canonicalize_name(Requirement(r).name): Requirement(r)
              for r in project.get_all("Requires-Dist") if "extra ==" not in r}
    for name, requirement in required.items():
        assert requirement.specifier == course[name].specifier, name
        assert requirement.marker == course[name].marker, name


def imported_distributions() -> dict[str, list[str]]:
    """The distributions of the packages the students' library imports, by module name."""
    modules = set()
    for path in (ROOT / "course_lib" / "lesson").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    modules -= {*sys.stdlib_module_names, "__future__", "course_lib"}
    providers = metadata.packages_distributions()
    return {module: [canonicalize_name(d) for d in providers[module]] for module in modules}


def installed_with(requirements: list[str]) -> set[str]:
    """The distributions ``requirements`` bring here, with theirs (extras left out)."""
    found, waiting = set(), [Requirement(r) for r in requirements]
    while waiting:
        requirement = waiting.pop()
        name = canonicalize_name(requirement.name)
        if name in found or (requirement.marker and not requirement.marker.evaluate(
                {"extra": ""})):
            continue
        found.add(name)
        waiting += [Requirement(r) for r in metadata.requires(name) or []]
    return found


def test_the_wheel_requires_every_package_the_lesson_imports(built):
    """Does installing the wheel bring every package the students' library imports?"""
    fields, _generator = wheel_metadata(built["older"])
    brought = installed_with(fields.get_all("Requires-Dist"))
    imported = imported_distributions()
    assert {"tensorflow", "keras", "PIL", "anywidget", "scipy"} <= set(imported)
    missing = {module: names for module, names in imported.items()
               if brought.isdisjoint(names)}
    assert not missing, f"the students' wheel does not bring what the lesson imports: {missing}"


def test_course_version_prints_the_course_packages_version(capsys):
    """Does `course --version` print the course's version (the one in pyproject.toml)?"""
    version = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(),
                        re.MULTILINE).group(1)
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"course (mnist-cnn-course) {version}\n"


def pip(python: Path, *arguments: str) -> str:
    done = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *arguments],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_plain_pip_install_of_a_newer_wheel_upgrades_the_older(built, tmp_path):
    """On a laptop: with the older wheel installed, does plain `pip install newer.whl`
    (offline here, the dependencies left out) replace it, version and files?"""
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "laptop")], check=True,
                   timeout=300)
    python = tmp_path / "laptop" / "bin" / "python"
    ask = ("import importlib.metadata as m; d = m.distribution('mnist_cnn_course_lib'); "
           f"print(d.version); print(d.locate_file({CHANGED!r}).read_text().endswith({MARK!r}))")

    def installed() -> list[str]:
        return subprocess.run([str(python), "-c", ask], capture_output=True, text=True,
                              check=True).stdout.split()

    pip(python, "install", "--no-index", "--no-deps", str(built["older"]))
    assert installed() == [str(version_of(built["older"])), "False"]
    said = pip(python, "install", "--no-index", "--no-deps", str(built["newer"]))
    assert installed() == [str(version_of(built["newer"])), "True"]
    assert f"Successfully uninstalled mnist_cnn_course_lib-{version_of(built['older'])}" in said
