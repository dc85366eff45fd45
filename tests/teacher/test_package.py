"""Does the students' wheel (`course package`) hold nothing that answers an assignment or
shows a hidden check: no model answer, no hidden test, no message only the grader writes,
and no function or constant that works out an answer for the student?"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from helpers import wheel_probe
from helpers.course import ROOT

from course_lib.autograder import language as grader_language
from course_lib.autograder.checks import lesson_example_labels
from course_lib.lesson.constants import LESSON_EXAMPLES
from course_lib.teacher.package import build_student_wheel

# How the lesson names its two examples: by their index, or as the pictures it shows.
EXAMPLE_NAMES = {LESSON_EXAMPLES[0]: "picture A", LESSON_EXAMPLES[1]: "picture B"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The students' wheel, as `course package` builds it (leaving its record of versions
    alone: tests/teacher/test_students_wheel.py checks the record)."""
    return build_student_wheel(tmp_path_factory.mktemp("package"))


@pytest.fixture(scope="module")
def wheel_files(wheel) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_students_package_holds_no_answer_and_no_hidden_test(wheel_files):
    """The wheel for students: no notebook, no model answer, no hidden test."""
    texts = {name: data.decode() for name, data in wheel_files.items()
             if not name.endswith(".mo")}  # the catalogues: the next test reads them
    assert "course_lib/lesson/checks.py" in texts and "course_lib/lesson/recipe.py" in texts
    source = nbformat.read(ROOT / "source" / "mnist_cnn" / "mnist_cnn.ipynb", as_version=4)
    secrets = []
    for cell in source.cells:
        for region in re.findall(r"### BEGIN (?:SOLUTION|HIDDEN TESTS)\n(.*?)### END",
                                 cell.source, re.DOTALL):
            secrets.append(region.strip())
            secrets += [line.strip() for line in region.splitlines()
                        if line.strip().startswith(("layers.", "tuned_model", "model ="))]
    assert len(secrets) > 20
    for name, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"{name} holds {secret!r}"


def grader_only_texts() -> set[str]:
    """The grader's messages that the students' library does not write itself, in English
    and in every translation of the grader's catalogue."""
    students = {message for _file, _line, message, _comments, _context in
                extract_from_dir(ROOT / "course_lib" / "lesson")}
    texts = set()
    for path in grader_language.LOCALE_DIR.glob(f"*/LC_MESSAGES/{grader_language.DOMAIN}.po"):
        with open(path, "rb") as handle:
            texts |= {text for message in read_po(handle) if message.id
                      and message.id not in students for text in (message.id, message.string)}
    return texts


def test_no_message_of_the_graders_own_is_in_the_wheel(wheel_files):
    """Is no hidden check's message (English or translated) in any file of the wheel, the
    compiled catalogues included?"""
    secrets = grader_only_texts()
    assert len(secrets) > 50  # the 30-odd messages only the grader writes, and their Dutch
    # The search finds them where they are: in the grader's own compiled catalogue.
    compiled = b"".join(path.read_bytes() for path in
                        grader_language.LOCALE_DIR.glob("*/LC_MESSAGES/*.mo"))
    assert all(secret.encode() in compiled for secret in secrets)
    assert any(name.endswith(".mo") for name in wheel_files)
    found = sorted((name, secret) for name, data in wheel_files.items()
                   for secret in secrets if secret.encode() in data)
    assert not found, f"the students' wheel holds the grader's messages: {found[:5]}"


def names_example(text: str, index: int) -> bool:
    """Does ``text`` (a key, or a label of one) name the lesson's example ``index``?"""
    return bool(re.search(rf"(?<!\d){index}(?!\d)", text)) or \
        text.strip().lower() in (EXAMPLE_NAMES[index].lower(), EXAMPLE_NAMES[index][-1].lower())


def says_digit_of(text: str, index: int, digit: int) -> bool:
    """Does ``text`` name example ``index`` (or its picture) with ``digit`` just after it?"""
    name = rf"(?:(?<!\d){index}(?!\d)|\b{EXAMPLE_NAMES[index]}\b)"
    return bool(re.search(rf"{name}\D{{0,40}}?(?<!\d){digit}(?!\d)", text, re.IGNORECASE))


def gives_away(finding: dict, truth: dict[int, int]) -> bool:
    """Does a value the probe found hand over the true digits of both examples?"""
    kind, value = finding["kind"], finding["value"]
    answer = [truth[index] for index in LESSON_EXAMPLES]
    if kind in ("pair", "rows"):  # the two digits side by side, in the lesson's order
        return list(value) == answer
    if kind == "mapping":  # e.g. {4: ..., 100: ...} or {"digit_4": ..., "digit_100": ...}
        return all(any(names_example(key, index) and digit == truth[index]
                       for key, digit in value.items()) for index in LESSON_EXAMPLES)
    return all(says_digit_of(value, index, truth[index]) for index in LESSON_EXAMPLES)


def test_the_answer_detector_recognises_the_ways_an_answer_can_be_handed_over():
    """Would the search below see the answer as a pair, as rows of scores, as a mapping and
    in words, and leave the lesson's other numbers alone?"""
    from course_lib.lesson.data import one_hot

    truth = {4: 7, 100: 1}
    finder = wheel_probe.Finder()
    for where, value in [("array", np.array([7, 1], dtype=np.uint8)),
                         ("pair", (images := np.zeros((2, 28, 28)), [7.0, 1.0])),
                         ("rows", one_hot([7, 1])), ("keys", {4: 7, 100: 1}),
                         ("names", {"digit_4": "7", "digit_100": "1"}),
                         ("pictures", {"A": 7, "B": 1}),
                         ("words", "Example 4 shows a 7; example 100 shows a 1."),
                         ("titles", "picture A: 7 | picture B: 1"),
                         ("other", [(3, 3), (7, 7), {4: 1, 100: 7}, "training examples 4 and "
                                    "100 of the sample", {"digit_4": 7}, images])]:
        finder.walk(value, where)
    flagged = {finding["where"].split("[")[0] for finding in finder.found
               if gives_away(finding, truth)}
    assert flagged == {"array", "pair", "rows", "keys", "names", "pictures", "words", "titles"}


@pytest.mark.slow
def test_no_function_or_constant_of_the_wheel_works_out_the_examples_digits(wheel, tmp_path):
    """Imported from the wheel alone, in a clean process: does any constant, or anything a
    function that needs no argument returns, prints or raises, give the true digits of the
    two examples of assignment 1 side by side?"""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "wheel")
    report = tmp_path / "probe" / "report.json"
    report.parent.mkdir()
    done = subprocess.run([sys.executable, "-I", wheel_probe.__file__, str(tmp_path / "wheel"),
                           str(report)], capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    probed = json.loads(report.read_text())
    # The probe ran the wheel's own code, all of it, and called the lesson's data functions.
    assert probed["package_file"].startswith(str(tmp_path / "wheel")), probed["package_file"]
    in_wheel = sorted(f"course_lib.lesson.{path.stem}" for path in
                      (tmp_path / "wheel" / "course_lib" / "lesson").glob("[!_]*.py"))
    assert sorted(probed["modules"][1:]) == in_wheel
    assert {"course_lib.lesson.data.lesson_examples()",
            "course_lib.lesson.data.load_mnist()"} <= set(probed["called"])
    assert len(probed["found"]) > 100
    truth = lesson_example_labels()  # the grader's answer, from the sample's labels
    leaks = [f"{finding['where']}: {finding['value']!r}"[:200] for finding in probed["found"]
             if gives_away(finding, truth)]
    assert not leaks, f"the students' wheel works out the answer to assignment 1: {leaks}"
