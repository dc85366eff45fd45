"""The checks' messages in the student's language: complete catalogues, fields kept, the
compiled catalogues in step, Dutch when the notebook asks for it, English otherwise; the
students' catalogue with the students' library's messages, the grader's with its own."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from course_lib.autograder import language as grader_language
from course_lib.autograder.handover import CellToCheck, CheckRequest, HandedOver
from course_lib.lesson import checks
from course_lib.lesson import language as lesson_language
from course_lib.lesson.language import (
    LANGUAGES,
    current_language,
    notebook_language,
    use_language,
)

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [language for language in LANGUAGES if language != "en"]
# Each catalogue: where it lives, the package whose messages it holds, and how many at least.
CATALOGUES = {
    lesson_language.DOMAIN: (lesson_language.LOCALE_DIR, "lesson", 90),
    grader_language.DOMAIN: (grader_language.LOCALE_DIR, "autograder", 25),
}
EACH = [(language, domain) for language in TRANSLATED for domain in CATALOGUES]


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    use_language("en")


def catalogue_file(language: str, domain: str, suffix: str = ".po") -> Path:
    return CATALOGUES[domain][0] / language / "LC_MESSAGES" / f"{domain}{suffix}"


def catalogue(language: str, domain: str = lesson_language.DOMAIN):
    with open(catalogue_file(language, domain), "rb") as handle:
        return read_po(handle)


def messages_in_code(package: str) -> set[str]:
    """Every message a package's code wraps in _(), as Babel's extractor finds them."""
    return {message for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "course_lib" / package)}


def fields(text: str) -> list[tuple[str, str]]:
    """The named fields of a message and their formats: what .format() fills in."""
    return sorted((name, spec) for _, name, spec, _ in string.Formatter().parse(text)
                  if name is not None)


@pytest.mark.parametrize(("language", "domain"), EACH)
def test_every_message_of_the_checks_has_a_current_translation(language, domain):
    """Is every message of the package's code translated in its own catalogue, and nothing
    else? A message added or changed without a translation fails here, by name."""
    _locale, package, at_least = CATALOGUES[domain]
    translated = {m.id: m for m in catalogue(language, domain) if m.id}
    in_code = messages_in_code(package)
    assert len(in_code) > at_least
    untranslated = sorted(m for m in in_code if m not in translated
                          or not translated[m].string or translated[m].fuzzy)
    assert not untranslated, f"run `make messages` and translate: {untranslated[:5]}"
    assert not sorted(set(translated) - in_code), "the catalogue holds messages no longer used"


@pytest.mark.parametrize(("language", "domain"), EACH)
def test_translations_keep_every_field_of_the_english_message(language, domain):
    """A translation that drops or renames {value} would break the check that formats it."""
    different = [m.id for m in catalogue(language, domain)
                 if m.id and fields(m.id) != fields(m.string)]
    assert not different


@pytest.mark.parametrize(("language", "domain"), EACH)
def test_the_compiled_catalogue_is_in_step_with_its_source(language, domain):
    """Does the .mo that is shipped say what the .po says (`make messages`)?"""
    with open(catalogue_file(language, domain, ".mo"), "rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    assert compiled == {m.id: m.string for m in catalogue(language, domain) if m.id}


def test_a_hidden_check_speaks_dutch_from_the_graders_own_catalogue():
    """Does a hidden check's message come in Dutch, from the grader's catalogue, when the
    grader speaks Dutch, and in English again afterwards?"""
    from course_lib.autograder.checks import check_identified_digits, lesson_example_labels
    from course_lib.lesson.language import speaking

    truth = lesson_example_labels()
    wrong = ((truth[4] + 1) % 10, truth[100])
    with speaking("nl"), pytest.raises(AssertionError) as dutch:
        check_identified_digits(*wrong)
    assert str(dutch.value) == (f"Niet helemaal: voorbeeld 4 toont een {truth[4]}, geen "
                                f"{wrong[0]}. Bekijk de afbeeldingen nog eens.")
    with pytest.raises(AssertionError, match="^Not quite: example 4 shows a"):
        check_identified_digits(*wrong)


def test_a_check_speaks_dutch_when_the_notebook_asks():
    use_language("nl")
    with pytest.raises(AssertionError) as caught:
        checks.check_own_digits([[[[0.002]] * 28] * 28], [[0.1] * 10], [0])
    assert str(caught.value).startswith(
        "De waarden van `own_input` gaan tot 0,0020, niet tot 1: ze zijn twee keer door 255 "
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
