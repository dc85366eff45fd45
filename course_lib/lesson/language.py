"""The language of the checks' messages: English, or a translation from a gettext catalogue.

Every message a student reads from a check is written in English in the code, wrapped in
:func:`_`, and translated through Python's :mod:`gettext` from the catalogues in
``course_lib/lesson/locale/<language>/LC_MESSAGES/course_lib.mo``. The notebook chooses the
language in its first code cell (``use_language("nl")``); the grader's checker uses the
language the notebook's metadata names. English is the default and needs no catalogue.

Messages with values use named fields, ``_("it has {count} layers").format(count=n)``, so
that a translation may put the values in another order. The numbers in those fields are
written the language's way (:func:`format_number`): ``{count:,}`` is "10,000" in English and
"10 000" in Dutch, ``{accuracy:.2f}`` "0.98" and "0,98"; a number inside Python code in a
message (``Dropout(0.5)``) is part of the text, not a field, and keeps its point.

The grader's own messages (the hidden checks', the sandbox's) are in a catalogue of their
own, ``course_lib/autograder/locale/<language>/LC_MESSAGES/course_grader.mo``, read through
:func:`domain_translator`, so that the students' package carries only its own messages; one
:func:`use_language` or :func:`speaking` sets the language of both.

Maintainers update the catalogues with Babel (``make messages``): ``pybabel extract`` finds
the messages of each package, ``pybabel update`` adds new ones to each ``.po`` file, a
translator fills them in, and ``pybabel compile`` writes the ``.mo`` files that are shipped.
"""

from __future__ import annotations

import contextlib
import gettext
import logging
import numbers
import reprlib
from collections.abc import Mapping
from pathlib import Path

DOMAIN = "course_lib"
LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT_LANGUAGE = "en"
LANGUAGES = {"en": "English", "nl": "Nederlands"}
# How each language writes a number: the symbol between groups of thousands, and the
# decimal symbol. Dutch allows a space or a dot between thousands; the lesson writes
# "500 000" (as Flemish school books do), so the numbers it prints do too. Two symbols per
# language are all this needs, so the students' library does not load Babel for it.
NUMBER_SYMBOLS = {"en": (",", "."), "nl": (" ", ",")}

_log = logging.getLogger(__name__)
_translations: gettext.NullTranslations = gettext.NullTranslations()
_language = DEFAULT_LANGUAGE


def use_language(language: str) -> None:
    """Write the checks' messages from now on in ``language`` ("en" or "nl")."""
    global _translations, _language
    if language not in LANGUAGES:
        known = ", ".join(f'"{code}" ({name})' for code, name in LANGUAGES.items())
        raise ValueError(f"The checks' messages come in {known}, not in {language!r}: "
                         f'write e.g. use_language("en").')
    _translations = gettext.NullTranslations() if language == DEFAULT_LANGUAGE else \
        gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])
    _language = language


@contextlib.contextmanager
def speaking(language: str):
    """Write the messages in ``language`` (English if the course does not have it) for the
    duration of a ``with`` block: the grader, which grades notebooks of either language."""
    before = _language
    use_language(language if _is_known(language) else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        use_language(before)


def current_language() -> str:
    """The language the checks write in now."""
    return _language


def domain_translator(domain: str, locale_dir: Path):
    """A ``_`` for the catalogue ``domain`` in ``locale_dir``, in the language chosen here.

    The grader keeps its own messages in a catalogue of its own, which students never
    receive; its ``_`` follows :func:`use_language` and :func:`speaking` like this module's,
    and a language without that catalogue falls back to English rather than stop a check.
    """
    loaded: dict[str, gettext.NullTranslations] = {}

    def translate(message: str) -> str:
        """``message`` in the current language (English when it has no translation)."""
        if _language not in loaded:
            loaded[_language] = gettext.NullTranslations() if _language == DEFAULT_LANGUAGE \
                else gettext.translation(domain, locale_dir, languages=[_language], fallback=True)
        return Message(loaded[_language].gettext(message))

    return translate


def _(message: str) -> str:
    """``message`` in the current language (English when it has no translation)."""
    return Message(_translations.gettext(message))


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form of a message for ``count``, in the current language."""
    return Message(_translations.ngettext(singular, plural, count))


def tr(message: str, **values) -> str:
    """A label or sentence the notebook's own code prints, in the notebook's language, with
    ``values`` in its fields written the language's way: ``tr("becomes")``,
    ``tr("training budget: {budget:,.0f} billion", budget=2400)``. The notebook's sentences
    are listed in :mod:`course_lib.lesson.notebook_words`, so that they are in the
    catalogue."""
    return _(message).format(**values)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it yet: a word the notebook's
    code passes in English (``title_prefix="label"``) and the library translates when it
    shows it."""
    return message


def format_number(value, spec: str = "") -> str:
    """``value`` formatted as ``format(value, spec)`` would, in the current language's way:
    ``format_number(10000, ",")`` is "10,000" in English and "10 000" in Dutch,
    ``format_number(0.981, ".2f")`` "0.98" and "0,98"."""
    group, decimal = NUMBER_SYMBOLS.get(_language, NUMBER_SYMBOLS[DEFAULT_LANGUAGE])
    return format(value, spec).translate(str.maketrans({",": group, ".": decimal}))


class Number:
    """A number that a message's field writes in the current language's way."""

    def __init__(self, value):
        self.value = value

    def __format__(self, spec: str) -> str:
        # A whole number without a format is written as Python writes it ("2", "2024").
        if not spec and isinstance(self.value, numbers.Integral):
            return str(self.value)
        return format_number(self.value, spec)

    def __str__(self) -> str:
        return self.__format__("")


class Message(str):
    """A translated message whose :meth:`format` writes its numbers the language's way."""

    def format(self, *args, **kwargs) -> str:
        """The message with its fields filled in; numbers as :func:`format_number` writes
        them (True and False, and text, as they are)."""
        return str.format(self, *map(_localized, args),
                          **{name: _localized(value) for name, value in kwargs.items()})


def _localized(value):
    if isinstance(value, numbers.Real) and not isinstance(value, bool) \
            and type(value).__name__ != "bool_":
        return Number(value)
    return value


def notebook_language(notebook) -> str:
    """The language a notebook's metadata names (``metadata.course_lib.language``), or the
    default: a notebook without it is English.

    Whatever else the metadata holds there (a list, a number, null, a language the course
    does not have, ``course_lib`` as a string) also gives English, with a warning in the
    log that says what was found: a student's notebook is graded whatever its metadata says.
    """
    value, path = notebook, []
    for key in ("metadata", "course_lib", "language"):
        if not isinstance(value, Mapping):
            _log.warning("%s is %s, not an object: its messages are in English.",
                         "The notebook's " + ".".join(path) if path else "The notebook",
                         reprlib.repr(value))
            return DEFAULT_LANGUAGE
        if key not in value:
            return DEFAULT_LANGUAGE
        value = value[key]
        path.append(key)
    if _is_known(value):
        return value
    known = ", ".join(f'"{code}" ({name})' for code, name in LANGUAGES.items())
    _log.warning("The notebook's %s is %s, not one of %s: its messages are in English.",
                 ".".join(path), reprlib.repr(value), known)
    return DEFAULT_LANGUAGE


def _is_known(language) -> bool:
    """Whether ``language`` is the code of a language the course has (any value may come)."""
    return isinstance(language, str) and language in LANGUAGES
