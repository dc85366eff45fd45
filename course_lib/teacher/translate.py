"""The lesson in another language, generated from the English notebook and a catalogue.

The English assignment in ``source/mnist_cnn`` is the one source of its code, answer and
test cells, grade ids and points. A language's text lives in a gettext catalogue,
``translations/mnist_cnn.<language>.po``: one entry per text (markdown) cell, with the
cell's id as its context, the English text as its ``msgid`` and the translation as its
``msgstr``. :func:`write_translation` builds ``source/mnist_cnn_<language>`` from the two:
every cell of the English notebook, in order, with the translated text in the text cells,
the notebook's language line (``use_language("en")``) set to the language, and
``metadata.course_lib.language`` naming it, which the grader reads for the messages of the
hidden checks. Everything graded is therefore identical in both languages.

A change to the English text is made once; until the catalogue follows, generating stops
and names each cell whose English text is new or changed (``course translate`` marks them
in the catalogue for the translator, keeping the old translation as a start).
"""

from __future__ import annotations

import copy
import datetime
import re
import shutil
from pathlib import Path

import nbformat

from course_lib.lesson.language import DEFAULT_LANGUAGE, LANGUAGES
from course_lib.teacher.course import ASSIGNMENT, CourseError

TRANSLATIONS = "translations"
LANGUAGE_LINE = re.compile(r'^use_language\("(?P<language>[a-z]+)"\)', re.MULTILINE)


class TranslationError(CourseError):
    """A translation cannot be generated; the message names the cells and what to do."""


def catalogue_path(course_dir: Path, language: str, assignment: str = ASSIGNMENT) -> Path:
    """Where the catalogue of ``assignment``'s text in ``language`` lives."""
    return Path(course_dir) / TRANSLATIONS / f"{assignment}.{language}.po"


def translated_assignment(assignment: str, language: str) -> str:
    """The name of ``assignment`` in ``language``: ``mnist_cnn_nl``."""
    return assignment if language == DEFAULT_LANGUAGE else f"{assignment}_{language}"


def translations(course_dir: Path, assignment: str = ASSIGNMENT) -> list[str]:
    """The languages that ``assignment`` has a catalogue for, besides English."""
    found = sorted(path.name.split(".")[-2] for path in
                   (Path(course_dir) / TRANSLATIONS).glob(f"{assignment}.*.po"))
    return [language for language in found if language in LANGUAGES]


def read_catalogue(path: Path):
    """The catalogue in ``path``, or a clear error when it cannot be read."""
    from babel.messages.pofile import PoFileError, read_po

    try:
        with open(path, "rb") as handle:
            return read_po(handle, abort_invalid=True)
    except (OSError, PoFileError, UnicodeDecodeError) as error:
        raise TranslationError(f"The catalogue {path} could not be read ({error}). It should "
                               "be a gettext .po file; restore it from the repository.") from error


def translate_notebook(english, catalogue, language: str):
    """The English notebook ``english`` with its text in ``language`` from ``catalogue``.

    Raises :class:`TranslationError` naming every text cell without a current translation,
    and every translation whose English cell is gone.
    """
    notebook = copy.deepcopy(english)
    problems = []
    language_lines = 0
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            message = catalogue.get(cell.source, context=cell.id)
            if message is None or not message.string:
                problems.append(f"cell {cell.id} ({_first_line(cell.source)}) has no "
                                "translation of its current English text")
            elif message.fuzzy:
                problems.append(f"cell {cell.id} ({_first_line(cell.source)}): its English "
                                "text changed, and its translation is marked to be checked")
            else:
                cell.source = message.string
        elif cell.cell_type == "code":
            cell.source, count = LANGUAGE_LINE.subn(f'use_language("{language}")',
                                                    cell.source)
            language_lines += count
    if language_lines != 1:
        problems.append(f"the English notebook should set the checks' language in exactly one "
                        f'line, use_language("{DEFAULT_LANGUAGE}"), but it has '
                        f"{language_lines}")
    cell_ids = {cell.id for cell in english.cells if cell.cell_type == "markdown"}
    problems += [f"the catalogue translates cell {message.context}, which the English "
                 "notebook no longer has as a text cell" for message in catalogue
                 if message.id and message.context not in cell_ids]
    if problems:
        raise TranslationError(
            f"The {LANGUAGES.get(language, language)} text is not in step with the English "
            "notebook: " + "; ".join(problems) + ". Run `course translate` to mark these "
            "in the catalogue, translate them, then run `course generate` again.")
    notebook.metadata.setdefault("course_lib", {})["language"] = language
    return notebook


def write_translation(course_dir: Path, language: str, assignment: str = ASSIGNMENT) -> Path:
    """Write ``source/<assignment>_<language>`` from the English source and the catalogue:
    the translated notebook (``mnist_cnn_nl.ipynb``) and a copy of the other files, where
    ``translations/<assignment>.<language>/`` holds their translations (the folders'
    READMEs), those instead."""
    course_dir = Path(course_dir)
    english_dir = course_dir / "source" / assignment
    target = course_dir / "source" / translated_assignment(assignment, language)
    catalogue = read_catalogue(catalogue_path(course_dir, language, assignment))
    notebooks = {path.name: translate_notebook(nbformat.read(path, as_version=4), catalogue,
                                               language)
                 for path in sorted(english_dir.glob("*.ipynb"))}
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(english_dir, target, ignore=shutil.ignore_patterns(
        "*.ipynb", ".ipynb_checkpoints", "__pycache__"))
    translated_files = course_dir / TRANSLATIONS / f"{assignment}.{language}"
    if translated_files.is_dir():
        shutil.copytree(translated_files, target, dirs_exist_ok=True)
    for name, notebook in notebooks.items():
        # nbgrader and `course collect` name an assignment's notebook after the assignment.
        renamed = f"{target.name}.ipynb" if name == f"{assignment}.ipynb" else name
        nbformat.write(notebook, target / renamed)
    return target


def update_catalogue(course_dir: Path, language: str, assignment: str = ASSIGNMENT) -> dict:
    """Bring the catalogue in step with the English text cells, for a translator.

    New cells get an empty entry; a cell whose English changed keeps its old translation,
    marked fuzzy (to be checked); entries of cells that are gone are dropped. Returns the
    cell ids per change: ``{"new": [...], "changed": [...], "removed": [...]}``.
    """
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    path = catalogue_path(course_dir, language, assignment)
    old = read_catalogue(path) if path.exists() else Catalog(locale=language)
    by_cell = {message.context: message for message in old if message.id}
    english = nbformat.read(Path(course_dir) / "source" / assignment / f"{assignment}.ipynb",
                            as_version=4)
    fresh = Catalog(locale=language, project=assignment, version=language, fuzzy=False,
                    header_comment=old.header_comment, language_team=old.language_team,
                    last_translator="the course's translators",
                    msgid_bugs_address="the course's issue tracker",
                    revision_date=datetime.datetime.now(datetime.timezone.utc))
    changes = {"new": [], "changed": [], "removed": []}
    cell_ids = []
    for cell in english.cells:
        if cell.cell_type != "markdown":
            continue
        cell_ids.append(cell.id)
        before = by_cell.get(cell.id)
        flags = set()
        translation = before.string if before else ""
        if before is None or not translation:
            changes["new"].append(cell.id)
        elif before.id != cell.source or before.fuzzy:
            changes["changed"].append(cell.id)
            flags.add("fuzzy")
        fresh.add(cell.source, translation, context=cell.id, flags=flags,
                  previous_id=before.id if "fuzzy" in flags else ())
    changes["removed"] = [cell for cell in by_cell if cell not in cell_ids]
    if path.exists() and not any(changes.values()):
        return changes  # in step: the file stays as it is, its dates included
    fresh.creation_date = old.creation_date
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        write_po(handle, fresh, width=0, omit_header=False, include_previous=True,
                 sort_output=False)
    return changes


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:50] + ("..." if len(line) > 50 else "")
