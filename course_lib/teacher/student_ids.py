"""Student ids: one check, wherever an id enters the course.

A student id names folders (``submitted/<id>/``, ``autograded/<id>/``, ``feedback/<id>/``),
a row of the gradebook and, on the classroom server, a system account. nbgrader takes the
id of ``--student`` as a file pattern, so an id such as ``*`` grades the whole class, and an
id such as ``..`` or ``a/b`` points outside the student's folder. Every id that enters
(the class list, a collected download or folder, nbgrader's exchange, the folders in
``submitted/``, the command line) passes :func:`check_student_id` first.

Allowed: the letters a-z and A-Z, digits, ``.``, ``_`` and ``-`` (a school's usual
``jan.peeters`` or ``2b-jan-peeters``), not starting with ``-`` (it would read as an
option) or ``.`` (a hidden folder, or ``.``/``..``), without ``..``, at most
:data:`MAX_LENGTH` characters. A system account (``account=True``) is stricter: lowercase,
starting with a letter or ``_``, at most :data:`MAX_ACCOUNT_LENGTH` characters.

Letters outside a-z (``zoë``, ``юлия``) are refused everywhere, not only for accounts.
nbgrader and the gradebook would take them, but the same name arrives spelled in different
bytes (a folder zipped on a Mac decomposes ``ë`` into ``e`` and a combining mark; one typed
on Windows does not), look-alike letters of other alphabets make two students who read
the same, and the tools on the way (Moodle's and Canvas' zip uploads, a spreadsheet opening
the exported grades, a shell) mangle them: one student would silently become two.
``course collect`` turns accented letters in folder names into plain ones first
(``zoë`` -> ``zoe``).
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 64  # room for a long full name made into an id; far below file-name limits
MAX_ACCOUNT_LENGTH = 32  # the longest user name useradd and utmp take

RULES = (f"A student id may hold the letters a-z and A-Z, digits, '.', '_' and '-' (e.g. "
         f"jan.peeters), may not start with '-' or '.' nor hold '..', and has at most "
         f"{MAX_LENGTH} characters.")
ACCOUNT_RULES = (f"An account name may hold the lowercase letters a-z, digits, '.', '_' and "
                 f"'-' (e.g. jan.peeters), starts with a letter or '_', may not hold '..', "
                 f"and has at most {MAX_ACCOUNT_LENGTH} characters.")
_ID = re.compile(r"[A-Za-z0-9._-]+")
_PATTERN_CHARACTERS = set("*?[]{}")


def check_student_id(text, *, account: bool = False) -> str:
    """Return ``text`` if it is a safe student id; raise :class:`ValueError` otherwise.

    The message names the id, says what is wrong with it, what a student id may hold and
    what to do. ``account=True`` checks it as a system account's name as well.

    >>> check_student_id("jan.peeters")
    'jan.peeters'
    """
    limit = MAX_ACCOUNT_LENGTH if account else MAX_LENGTH
    problem = _problem(text, limit)
    if problem is None and account:
        if text != text.lower():
            problem = "it has capital letters, which account names may not have"
        elif text[0].isdigit():
            problem = "it starts with a digit, which account names may not"
    if problem is None:
        return text
    shown = repr(text) if isinstance(text, str) else f"{text!r} ({type(text).__name__})"
    rules = ACCOUNT_RULES if account else RULES
    raise ValueError(f"{shown} cannot be {'an account name' if account else 'a student id'}: "
                     f"{problem}. {rules} Use the student's id as the school writes it, "
                     "e.g. jan.peeters.")


def is_student_id(text) -> bool:
    """Whether ``text`` passes :func:`check_student_id`."""
    try:
        check_student_id(text)
    except ValueError:
        return False
    return True


def _problem(text, limit: int) -> str | None:
    """What is wrong with ``text`` as a student id, in words; None if nothing is."""
    if not isinstance(text, str):
        return "it is not text"
    if not text:
        return "it is empty"
    for character in text:
        if not _ID.fullmatch(character):
            return f"it contains {_describe(character)}"
    if ".." in text:
        return "it contains '..', which points to the folder above"
    if text.startswith("-"):
        return "it starts with '-', which commands read as an option"
    if text.startswith("."):
        return "it starts with '.', which makes a hidden folder"
    if len(text) > limit:
        return f"it is {len(text)} characters long"
    return None


def _describe(character: str) -> str:
    """A character that a student id may not hold, named for a teacher."""
    if character in "/\\":
        return f"{character!r}, a folder separator"
    if character in _PATTERN_CHARACTERS:
        return f"{character!r}, a pattern character that matches other students' ids"
    if character.isspace():
        return "a space" if character == " " else f"white space ({character!r})"
    if unicodedata.category(character).startswith("C"):
        return f"an invisible control character ({character!r})"
    if character.isalpha():
        return f"the letter {character!r}, which is not one of a-z (write it without accents)"
    return f"{character!r}"
