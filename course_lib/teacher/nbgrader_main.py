"""nbgrader's command line, started without the IRI parsers of ``rfc3987_syntax``.

nbformat validates notebooks with jsonschema, and jsonschema loads ``rfc3987_syntax``, when
it is installed (nbformat's ``jsonschema[format-nongpl]`` installs it), to check the ``iri``
and ``iri-reference`` formats: that module builds its Lark parsers as it is imported, over a
second of every nbgrader command and so of every submission graded. No schema nbgrader
validates with uses those formats, so jsonschema is told the module is absent and leaves
those two formats unchecked; everything else is validated as before.

A new gradebook records the newest revision of nbgrader's database schema, which nbgrader
asks of a separate ``alembic heads`` process: over three seconds of CPU to start Python,
SQLAlchemy and nbgrader again, for every course's first command and every grading run's
scratch gradebook. :func:`gradebook_schema_version` reads the same revision from nbgrader's
migration scripts in this process: in nbgrader's commands, and in the course's own
processes that open the gradebook (:func:`course_lib.teacher.course.open_gradebook`).

``python -m course_lib.teacher.nbgrader_main ARGUMENTS`` does what ``python -m nbgrader
ARGUMENTS`` does (:func:`course_lib.teacher.course.nbgrader` runs it); the ``course``
command leaves the IRI parsers out too, for the notebooks it reads itself.
"""

from __future__ import annotations

import runpy
import sys

UNUSED_FORMAT_CHECKERS = ("rfc3987_syntax",)


def gradebook_schema_version() -> str:
    """The newest revision of nbgrader's gradebook schema, as ``alembic heads`` prints it."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    heads = ScriptDirectory(ALEMBIC_DIR).get_heads()
    if len(heads) != 1:  # nbgrader's own code takes the first line alike, but says nothing
        raise RuntimeError(f"nbgrader's gradebook schema has {len(heads)} newest revisions "
                           f"({', '.join(heads)}), not one: reinstall nbgrader.")
    return heads[0]


def leave_out_unused_format_checkers() -> None:
    """Make jsonschema find the IRI parsers absent in this process, before it is imported:
    every process of the course that reads notebooks starts seconds sooner."""
    for name in UNUSED_FORMAT_CHECKERS:
        sys.modules.setdefault(name, None)  # `import name` now fails, as if not installed


def read_schema_version_here() -> None:
    """Make nbgrader read a new gradebook's schema revision in this process
    (:func:`gradebook_schema_version`) instead of starting ``alembic heads``."""
    import nbgrader.api

    nbgrader.api.get_alembic_version = gradebook_schema_version


def main() -> None:
    """Run nbgrader's command line with ``sys.argv``'s arguments."""
    leave_out_unused_format_checkers()
    read_schema_version_here()
    runpy.run_module("nbgrader", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
