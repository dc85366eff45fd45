"""Can a teacher plan from TEACHING.md and TEACHING.nl.md: do the files and `course` commands
they name exist, and do the times of each route add up to what its heading says?"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
from pathlib import Path

import pytest

from course_lib.teacher.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"en": ROOT / "TEACHING.md", "nl": ROOT / "TEACHING.nl.md"}
LESSON = ROOT / "source" / "mnist_cnn" / "mnist_cnn.ipynb"
STUDENT_FOLDER = LESSON.parent  # names such as own_digits/ are the lesson folder's
PICTURES = {".png", ".jpg", ".jpeg", ".heic", ".heif", ".bmp", ".gif"}  # students' examples
FILE_SUFFIXES = {".md", ".py", ".ipynb", ".toml", ".po", ".csv", ".txt", ".json"}
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]+$")  # STUDENT, LEERLING, PATH: the teacher fills in
HEADING = re.compile(r"^(#+) (.*)$")
TOTAL = re.compile(r"\((?:(\d+) x (\d+) = )?(\d+) min\)")
ROW_TIME = re.compile(r"^\| (\d+) min \|")


def code_spans(text: str) -> list[str]:
    """Every `...` span of a markdown text (outside fenced blocks, which these pages lack)."""
    return re.findall(r"`([^`\n]+)`", text)


def grade_ids() -> set[str]:
    """The graded cells' ids of the lesson notebook."""
    cells = json.loads(LESSON.read_text())["cells"]
    return {c["metadata"]["nbgrader"]["grade_id"] for c in cells
            if c.get("metadata", {}).get("nbgrader", {}).get("grade")}


def wrong_commands(text: str) -> list[str]:
    """The `course ...` commands of ``text`` that the course's command line refuses."""
    wrong = []
    for span in code_spans(text):
        if not span.startswith("course "):
            continue
        words = []
        for word in shlex.split(span)[1:]:
            if word == "...":
                break
            words.append("x" if PLACEHOLDER.match(word) else word)
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                build_parser().parse_args(words)
        except SystemExit:
            wrong.append(span)
    return wrong


def missing_names(text: str) -> list[str]:
    """The files, folders, settings and graded cells ``text`` names that do not exist."""
    readme = (ROOT / "README.md").read_text()
    config = (ROOT / "nbgrader_config.py").read_text()
    ids = grade_ids()
    missing = []
    for span in code_spans(text):
        name = span.strip()
        if name.startswith("c."):  # an nbgrader_config.py setting
            if name.split(" ")[0] not in config:
                missing.append(name)
        elif re.fullmatch(r"(test_\w+|explain_generalisation|reflect_own_digits)", name):
            if name not in ids:
                missing.append(name)
        elif re.fullmatch(r"[\w.\-/]+", name) and not name.startswith("course_lib.") and (
                "/" in name or Path(name).suffix in FILE_SUFFIXES):
            if Path(name).suffix.lower() in PICTURES:
                continue
            # submitted/, feedback/: folders nbgrader makes as it goes, named in the README
            made_by_nbgrader = re.fullmatch(r"\w+/", name) is not None and (
                f"`{name}`" in readme or f"\n{name}" in readme)
            if not ((ROOT / name).exists() or (STUDENT_FOLDER / name).exists()
                    or made_by_nbgrader):
                missing.append(name)
    return missing


def times_that_do_not_add_up(text: str) -> list[str]:
    """Each heading with a time whose table rows, or sub-headings, add up to another time."""
    lines = text.splitlines()
    headings = [(i, len(m.group(1)), m.group(2)) for i, line in enumerate(lines)
                if (m := HEADING.match(line))]
    wrong = []
    for number, (start, level, title) in enumerate(headings):
        total = TOTAL.search(title)
        if not total:
            continue
        count, length, minutes = (int(g) if g else None for g in total.groups())
        if count is not None and count * length != minutes:
            wrong.append(f"{title}: {count} x {length} is not {minutes}")
        end = next((i for i, lev, _ in headings[number + 1:] if lev <= level), len(lines))
        children = [(i, lev, t) for i, lev, t in headings[number + 1:] if start < i < end]
        body_end = children[0][0] if children else end
        rows = [int(m.group(1)) for line in lines[start + 1:body_end]
                if (m := ROW_TIME.match(line))]
        if rows:
            found = sum(rows)
        else:
            found = sum(int(TOTAL.search(t).group(3)) for _, lev, t in children
                        if lev == level + 1 and TOTAL.search(t))
        if found != minutes:
            wrong.append(f"{title}: the parts add up to {found} min")
    return wrong


@pytest.mark.parametrize("language", PAGES)
def test_the_pages_link_each_other_at_the_top(language):
    """Does each page link the other in its first lines?"""
    other = {"en": "TEACHING.nl.md", "nl": "TEACHING.md"}[language]
    top = "\n".join(PAGES[language].read_text().splitlines()[:5])
    assert f"]({other})" in top


@pytest.mark.parametrize("language", PAGES)
def test_every_course_command_named_exists(language):
    """Is every `course ...` command on the page one the command line accepts?"""
    text = PAGES[language].read_text()
    assert any(span.startswith("course autograde") for span in code_spans(text))
    assert wrong_commands(text) == []


@pytest.mark.parametrize("language", PAGES)
def test_every_file_named_exists(language):
    """Does every file, folder, setting and graded cell the page names exist?"""
    assert missing_names(PAGES[language].read_text()) == []


@pytest.mark.parametrize("language", PAGES)
def test_the_routes_add_up_to_their_headings(language):
    """Are there a two- and a three-lesson-hour route, and do all times add up?"""
    text = PAGES[language].read_text()
    assert "(2 x 50 = 100 min)" in text and "(3 x 50 = 150 min)" in text
    assert times_that_do_not_add_up(text) == []


def test_the_checks_of_this_file_find_mistakes():
    """Would a wrong time, an unknown command or a missing file be found?"""
    page = "\n".join([
        "### Two lesson hours (2 x 50 = 100 min)",
        "#### Hour 1 (50 min)",
        "| time | what |", "| --- | --- |", "| 30 min | a |", "| 15 min | b |",
        "#### Hour 2 (50 min)",
        "| 50 min | c |",
        "Run `course autograde --student STUDENT`, `course regrade`, `course autograde --fast`;",
        "see `docs/NOWHERE.md`, `course_lib/teacher/cli.py`, `test_nothing`, `7_mine.png`.",
    ])
    assert times_that_do_not_add_up(page) == ["Hour 1 (50 min): the parts add up to 45 min"]
    assert times_that_do_not_add_up(page.replace("2 x 50 = 100", "2 x 50 = 90")) == [
        "Two lesson hours (2 x 50 = 90 min): 2 x 50 is not 90",
        "Two lesson hours (2 x 50 = 90 min): the parts add up to 100 min",
        "Hour 1 (50 min): the parts add up to 45 min"]
    assert wrong_commands(page) == ["course regrade", "course autograde --fast"]
    assert missing_names(page) == ["docs/NOWHERE.md", "test_nothing"]
    assert missing_names("`course_lib/lesson/profiles.py`, `submitted/`, `nowhere/`") == [
        "course_lib/lesson/profiles.py", "nowhere/"]
