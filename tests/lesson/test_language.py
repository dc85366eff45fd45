"""The checks' messages in the student's language: complete catalogues, fields kept, the
compiled catalogue in step, Dutch when the notebook asks for it, English otherwise."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from course_lib.autograder.handover import CellToCheck, CheckRequest, HandedOver
from course_lib.lesson import checks
from course_lib.lesson.language import (
    LANGUAGES,
    LOCALE_DIR,
    current_language,
    notebook_language,
    use_language,
)

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [language for language in LANGUAGES if language != "en"]


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    use_language("en")


def catalogue(language: str):
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "course_lib.po", "rb") as handle:
        return read_po(handle)


def messages_in_code() -> set[str]:
    """Every message the checks wrap in _(), as Babel's extractor finds them."""
    found = set()
    for package in ("lesson", "autograder"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / "course_lib" / package):
            found.add(message)
    return found


def fields(text: str) -> list[tuple[str, str]]:
    """The named fields of a message and their formats: what .format() fills in."""
    return sorted((name, spec) for _, name, spec, _ in string.Formatter().parse(text)
                  if name is not None)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_of_the_checks_has_a_current_translation(language):
    """A message added or changed in the code without a translation fails here, by name."""
    translated = {m.id: m for m in catalogue(language) if m.id}
    in_code = messages_in_code()
    assert len(in_code) > 90
    untranslated = sorted(m for m in in_code if m not in translated
                          or not translated[m].string or translated[m].fuzzy)
    assert not untranslated, f"run `make messages` and translate: {untranslated[:5]}"
    assert not sorted(set(translated) - in_code), "the catalogue holds messages no longer used"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_every_field_of_the_english_message(language):
    """A translation that drops or renames {value} would break the check that formats it."""
    different = [m.id for m in catalogue(language) if m.id and fields(m.id) != fields(m.string)]
    assert not different


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_is_in_step_with_its_source(language):
    """The .mo the students' package ships says what the .po says (`make messages`)."""
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "course_lib.mo", "rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    assert compiled == {m.id: m.string for m in catalogue(language) if m.id}


def test_a_check_speaks_dutch_when_the_notebook_asks():
    use_language("nl")
    with pytest.raises(AssertionError) as caught:
        checks.check_own_digits([[[[0.002]] * 28] * 28], [[0.1] * 10], [0])
    assert str(caught.value).startswith(
        "De waarden van `own_input` gaan tot 0.0020, niet tot 1: ze zijn twee keer door 255 "
        "gedeeld.")
    with pytest.raises(AssertionError, match="`probability_4` moet een getal tussen 0 en 1 "
                                             "zijn, maar het is '93%'"):
        checks.expect_fraction("probability_4", "93%")


def test_english_is_the_default_and_comes_back():
    assert current_language() == "en"
    use_language("nl")
    use_language("en")
    with pytest.raises(AssertionError, match="should be a number between 0 and 1, but it "
                                             "is '93%'"):
        checks.expect_fraction("probability_4", "93%")


def test_a_language_the_course_does_not_have_is_named_with_the_choices():
    with pytest.raises(ValueError, match=r'come in "en" \(English\), "nl" \(Nederlands\), '
                                         r"not in 'fr'"):
        use_language("fr")
    assert current_language() == "en"


def test_the_grader_takes_the_language_from_the_notebook_and_hands_it_to_the_checker(
        tmp_path):
    assert notebook_language({"metadata": {"course_lib": {"language": "nl"}}}) == "nl"
    assert notebook_language({"metadata": {}}) == "en"
    assert notebook_language({"metadata": {"course_lib": {"language": "klingon"}}}) == "en"
    CheckRequest([CellToCheck("test_x", "pass", HandedOver({}))], 0, "nl").write(tmp_path)
    assert CheckRequest.read(tmp_path).language == "nl"


def test_the_checker_says_what_is_missing_in_the_notebooks_language(tmp_path):
    """The most common verdict, an answer left undefined, as the checker writes it."""
    from course_lib.autograder.checker import run_cell
    from course_lib.lesson.language import speaking

    cell = CellToCheck("test_identify_digits", "digit_4", HandedOver(missing=["digit_4"]))
    with speaking("nl"):
        dutch = run_cell(cell, tmp_path, {})
    english = run_cell(cell, tmp_path, {})
    assert dutch.message.startswith("Je hebt `digit_4` nog niet gedefinieerd: toen de "
                                    "notebook bij deze controle kwam")
    assert english.message.startswith("You have not defined `digit_4` yet")


def test_the_lesson_library_tells_a_dutch_student_about_their_pictures_in_dutch(tmp_path):
    from course_lib.lesson.handwriting import DigitImageError, load_digit_folder

    (tmp_path / "own").mkdir()
    (tmp_path / "own" / "3_blank.png").write_bytes(b"not a picture")
    use_language("nl")
    with pytest.raises(DigitImageError, match="Geen bruikbare cijferafbeelding in"):
        load_digit_folder(tmp_path / "own", quiet=True)
