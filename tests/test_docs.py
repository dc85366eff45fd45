"""The documentation site builds strictly, its reference pages follow the code, and the
README's and the pages' links and file names lead somewhere."""

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import docs_reference  # noqa: E402  (the site's hook, in scripts/)

from course_lib.teacher.cli import build_parser  # noqa: E402

# Backticked paths inside the project: `course_lib/lesson/settings.py`, `tests/...`.
PROJECT_PATH = re.compile(
    r"`((?:course_lib|tests|benchmarks|scripts|source|translations|release|docs)/[\w./\-]*)`")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built as CI builds it: strict, so every warning stops the build."""
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr}"
    return out


def page_text(site: Path, page: str) -> str:
    """A built page's HTML."""
    return (site / page / "index.html").read_text(encoding="utf-8")


def commands(parser: argparse.ArgumentParser, words: tuple[str, ...] = ("course",)):
    """Every command and sub-command of a parser, as the words that call it."""
    for name, child in docs_reference._subcommands(parser):
        yield (*words, name)
        yield from commands(child, (*words, name))


# Builds the whole site once for the module (10-20 s on two cores).
@pytest.mark.slow
def test_the_configuration_page_holds_every_setting(site):
    """Does the configuration reference name every setting of every Configurable?"""
    html = page_text(site, "reference/configuration")
    assert "c.GradeInSandbox.memory_mb" in html
    assert "c.CourseSpawner." in html
    for cls in docs_reference.configurables():
        for name in cls.class_own_traits(config=True):
            assert f"c.{cls.__name__}.{name}" in html


@pytest.mark.slow
def test_the_cli_page_holds_every_command(site):
    """Does the CLI reference show every `course` command, sub-commands included?"""
    html = page_text(site, "reference/cli")
    found = list(commands(build_parser()))
    assert ("course", "autograde") in found and ("course", "hub") in found
    for words in found:
        assert f"<code>{' '.join(words)}</code>" in html, words


@pytest.mark.slow
def test_the_points_page_follows_the_notebook(site):
    """Does the one points table give each graded cell the notebook's points, and the total?"""
    html = page_text(site, "reference/points")
    cells = docs_reference.graded_cells()
    for grade_id, points, _ in cells:
        assert re.search(rf"<code>{grade_id}</code></td>\s*<td>{points}</td>", html), grade_id
    assert f"Total: {sum(points for _, points, _ in cells)} points" in html


@pytest.mark.slow
def test_pages_show_the_codes_defaults_not_placeholders(site):
    """Are the limits' defaults and the pass marks filled in from the code?"""
    html = page_text(site, "reference/limits")
    assert "{{" not in html
    assert "<td>6144</td>" in html.replace(" ", "")
    assert "0.98" in html and "0.94" in html


@pytest.mark.slow
def test_teaching_and_changelog_are_included_from_the_root(site):
    """Do the TEACHING pages and the changelog show the root files' text (one source)?"""
    for page, source in [("teachers/TEACHING", "TEACHING.md"),
                         ("teachers/TEACHING.nl", "TEACHING.nl.md"),
                         ("changelog", "CHANGELOG.md")]:
        heading = (ROOT / source).read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
        assert heading.split(":")[0] in page_text(site, page), source


def test_every_relative_link_in_the_readme_resolves():
    """Does every link in README.md that is not to another site lead to an existing file?"""
    broken = [link for link in relative_links(ROOT / "README.md")
              if not (ROOT / link.split("#")[0]).exists()]
    assert not broken, f"README.md links to files that do not exist: {broken}"


def test_every_project_file_the_docs_name_exists():
    """Does every project path written in the README and the pages exist?"""
    missing = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for name in PROJECT_PATH.findall(doc.read_text(encoding="utf-8")):
            if not (ROOT / name).exists():
                missing.append(f"{doc.relative_to(ROOT)}: {name}")
    assert not missing, "named but not there:\n" + "\n".join(missing)


def relative_links(markdown: Path) -> list[str]:
    """The links of a Markdown file that point into the project, not to another site."""
    links = MARKDOWN_LINK.findall(markdown.read_text(encoding="utf-8"))
    return [link for link in links if not re.match(r"[a-z]+:|#", link)]


def test_the_checks_of_this_file_find_mistakes(tmp_path):
    """Do the link and path checks, and the hook's guards, catch what they look for?"""
    readme = tmp_path / "README.md"
    readme.write_text("[a](docs/nowhere.md) [b](https://example.org) [c](#top) [d](LICENSE)")
    assert relative_links(readme) == ["docs/nowhere.md", "LICENSE"]
    assert PROJECT_PATH.findall("see `course_lib/autograde_step.py`") == [
        "course_lib/autograde_step.py"]
    notebook = tmp_path / "lesson.ipynb"
    cell = {"cell_type": "code", "source": "", "metadata": {"nbgrader": {
        "grade": True, "grade_id": "test_new_cell", "points": 4}}}
    notebook.write_text(json.dumps({"cells": [cell]}))
    with pytest.raises(ValueError, match="test_new_cell"):
        docs_reference.points_page(notebook)


def test_a_default_the_code_lacks_stops_the_build():
    """Does a page naming a setting no Configurable has stop the build, naming it?"""

    class Page:
        class file:  # the shape of MkDocs' page.file
            src_uri = "reference/limits.md"

    filled = docs_reference.on_page_markdown("{{ default GradeInSandbox.memory_mb }}",
                                             Page, None, None)
    from course_lib.autograder.execute import GradeInSandbox

    assert filled == str(GradeInSandbox.class_traits()["memory_mb"].default_value)
    with pytest.raises(ValueError, match="GradeInSandbox.memory_gb"):
        docs_reference.on_page_markdown("{{ default GradeInSandbox.memory_gb }}",
                                        Page, None, None)
