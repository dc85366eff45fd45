"""The lesson in Dutch: generated from the English notebook and its catalogue, in step with
it (cells, grade ids, points), and stopped with the cells named when the English changes."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from helpers.course import ROOT

from course_lib.teacher import translate
from course_lib.teacher.cli import main

ENGLISH = ROOT / "source" / "mnist_cnn" / "mnist_cnn.ipynb"
DUTCH = ROOT / "source" / "mnist_cnn_nl" / "mnist_cnn_nl.ipynb"


def cells(path):
    return json.loads(path.read_text())["cells"]


@pytest.fixture
def course_copy(tmp_path):
    """The English source and the catalogues in a scratch course folder."""
    shutil.copytree(ROOT / "source" / "mnist_cnn", tmp_path / "source" / "mnist_cnn")
    shutil.copytree(ROOT / "translations", tmp_path / "translations")
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    return tmp_path


def test_the_committed_dutch_source_is_what_generation_writes(course_copy):
    """source/mnist_cnn_nl is generated: a stale copy fails here (run `course generate`)."""
    written = translate.write_translation(course_copy, "nl")
    assert sorted(p.relative_to(written) for p in written.rglob("*") if p.is_file()) == \
        sorted(p.relative_to(DUTCH.parent) for p in DUTCH.parent.rglob("*") if p.is_file())
    assert cells(written / "mnist_cnn_nl.ipynb") == cells(DUTCH), \
        "source/mnist_cnn_nl is stale: run `course generate` and commit it"


def test_the_languages_grade_the_same_cells_the_same_way():
    """Same cells in the same order, same ids, grade ids, points and roles; the same code
    except the one language line; and a translated text in every text cell."""
    english, dutch = cells(ENGLISH), cells(DUTCH)
    assert [(c["cell_type"], c["id"], c["metadata"].get("nbgrader")) for c in english] == \
        [(c["cell_type"], c["id"], c["metadata"].get("nbgrader")) for c in dutch]
    assert sum(c["metadata"].get("nbgrader", {}).get("points", 0) for c in dutch) == 22
    for mine, theirs in zip(english, dutch, strict=True):
        source, translated = "".join(mine["source"]), "".join(theirs["source"])
        if mine["cell_type"] == "code":
            assert translated == source.replace('use_language("en")', 'use_language("nl")')
        else:
            assert translated != source, f"cell {mine['id']} is not translated"
    assert json.loads(DUTCH.read_text())["metadata"]["course_lib"] == {"language": "nl"}
    assert 'use_language("nl")' in "".join(dutch[2]["source"])


def test_changed_english_text_stops_generation_until_the_catalogue_follows(course_copy):
    """An English change is made once; generating names the cell until it is translated,
    and `course translate` marks it for the translator with the old translation kept."""
    path = course_copy / "source" / "mnist_cnn" / "mnist_cnn.ipynb"
    notebook = nbformat.read(path, as_version=4)
    [cell] = [c for c in notebook.cells if c.id == "cell-11"]
    cell.source += "\n\nA new sentence."
    notebook.cells.append(nbformat.v4.new_markdown_cell("A new closing word.", id="closing"))
    nbformat.write(notebook, path)

    with pytest.raises(translate.TranslationError) as caught:
        translate.write_translation(course_copy, "nl")
    message = str(caught.value)
    assert "cell cell-11 (### Assignment 1: identify the digits (2 points)) has no " \
           "translation of its current English text" in message
    assert "cell closing (A new closing word.) has no translation" in message
    assert "Run `course translate`" in message

    assert main(["--course", str(course_copy), "translate"]) == 0
    catalogue = translate.read_catalogue(translate.catalogue_path(course_copy, "nl"))
    changed = catalogue.get(cell.source, context="cell-11")
    assert changed.fuzzy and changed.string.startswith("### Opdracht 1: herken de cijfers")
    assert catalogue.get("A new closing word.", context="closing").string == ""
    with pytest.raises(translate.TranslationError, match="cell-11 .*marked to be checked"):
        translate.write_translation(course_copy, "nl")
    assert not (course_copy / "source" / "mnist_cnn_nl").exists()


def test_a_broken_catalogue_is_reported_and_nothing_is_written(course_copy):
    catalogue = translate.catalogue_path(course_copy, "nl")
    catalogue.write_bytes(b'msgid "unterminated\n')
    with pytest.raises(translate.TranslationError, match="could not be read"):
        translate.write_translation(course_copy, "nl")
    assert not (course_copy / "source" / "mnist_cnn_nl").exists()


@pytest.mark.parametrize("assignment", ["mnist_cnn", "mnist_cnn_nl"])
def test_each_language_is_released_without_answers(assignment):
    text = "\n".join("".join(c["source"]) for c in
                     cells(ROOT / "release" / assignment / f"{assignment}.ipynb"))
    for secret in ["BEGIN SOLUTION", "HIDDEN TESTS", "digit_100 = 9", "Model answer",
                   "Modelantwoord", "tuned_model.compile("]:
        assert secret not in text


def test_translate_leaves_a_catalogue_in_step_untouched(course_copy, capsys):
    path = translate.catalogue_path(course_copy, "nl")
    before = path.read_bytes()
    assert main(["--course", str(course_copy), "translate"]) == 0
    assert "mnist_cnn.nl.po: in step with the English text" in capsys.readouterr().out
    assert path.read_bytes() == before
