"""The language of the checks' messages: English, or a translation from a gettext catalogue.

Every message a student reads from a check is written in English in the code, wrapped in
:func:`_`, and translated through Python's :mod:`gettext` from the catalogues in
``course_lib/lesson/locale/<language>/LC_MESSAGES/course_lib.mo``. The notebook chooses the
language in its first code cell (``use_language("nl")``); the grader's checker uses the
language the notebook's metadata names. English is the default and needs no catalogue.

Messages with values use named fields, ``_("it has {count} layers").format(count=n)``, so
that a translation may put the values in another order.

Maintainers update the catalogues with Babel (``make messages``): ``pybabel extract`` finds
the messages, ``pybabel update`` adds new ones to each ``.po`` file, a translator fills
them in, and ``pybabel compile`` writes the ``.mo`` files the students' package ships.
"""

from __future__ import annotations

import contextlib
import gettext
from pathlib import Path

DOMAIN = "course_lib"
LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT_LANGUAGE = "en"
LANGUAGES = {"en": "English", "nl": "Nederlands"}

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
    use_language(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        use_language(before)


def current_language() -> str:
    """The language the checks write in now."""
    return _language


def _(message: str) -> str:
    """``message`` in the current language (English when it has no translation)."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form of a message for ``count``, in the current language."""
    return _translations.ngettext(singular, plural, count)


def notebook_language(notebook) -> str:
    """The language a notebook's metadata names (``metadata.course_lib.language``), or the
    default: a notebook without it, or with a language the course does not have, is English."""
    language = ((notebook.get("metadata") or {}).get("course_lib") or {}).get("language")
    return language if language in LANGUAGES else DEFAULT_LANGUAGE
