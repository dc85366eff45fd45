"""The grader's own messages in the notebook's language, from a catalogue of their own.

The hidden checks' and the grading pipeline's messages are wrapped in this module's
:func:`_` and translated from ``course_lib/autograder/locale/<language>/LC_MESSAGES/
course_grader.mo``: a catalogue next to the grader's code, so that the students' package
(:mod:`course_lib.lesson` whole) never carries the text of a hidden check. The language is
the one :func:`course_lib.lesson.language.speaking` or ``use_language`` chose; ``make
messages`` keeps this catalogue up to date as it does the students' one.
"""

from __future__ import annotations

from pathlib import Path

from course_lib.lesson.language import domain_translator

DOMAIN = "course_grader"
LOCALE_DIR = Path(__file__).with_name("locale")

_ = domain_translator(DOMAIN, LOCALE_DIR)
