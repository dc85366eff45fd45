"""Downloads, worksheets and exports built the way Moodle 4.x and Canvas build them.

Each builder follows the platform's own code, named in its docstring, so that the tests
read what a teacher really downloads: the names, the times inside the zip, the columns,
encodings and separators.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

import nbformat

ASSIGNMENT = "mnist_cnn"
RIGHT, WRONG = "answer = 42", "answer = 7"

# The moment a test's zip is made: two days after a deadline of 2 March 2026, 23:59.
DOWNLOADED = (2026, 3, 4, 9, 12, 0)


@dataclass
class MoodleSubmission:
    """One participant's files in a Moodle download."""

    full_name: str
    participant: int
    files: dict[str, bytes] = field(default_factory=dict)


def moodle_download(submissions: list[MoodleSubmission], *, blind: bool = False,
                    folders: bool = True, made=DOWNLOADED) -> bytes:
    """A "Download all submissions" zip as Moodle 4.1+ writes it.

    ``mod/assign/classes/downloader.php``: the prefix is the full name (``Participant``
    under blind marking) with ``_`` made spaces, ``_`` and the participant id
    (``get_uniqueid_for_user``), cleaned by ``clean_filename``; then
    ``_assignsubmission_file`` and the file's path inside a folder (``downloadasfolders``,
    the default) or ``_`` and its name. ``files/classes/local/archive_writer/
    zip_writer.php`` streams it through ZipStream, which marks UTF-8 names as such and
    stamps every entry with the moment of zipping (``made``), not the hand-in time.
    """
    files = {}
    for submission in submissions:
        name = "Participant" if blind else submission.full_name
        prefix = _moodle_clean(f"{name.replace('_', ' ')}_{submission.participant}")
        for path, data in submission.files.items():
            if folders:
                files[f"{prefix}_assignsubmission_file/{path}"] = data
            else:
                files[f"{prefix}_assignsubmission_file_{path}"] = data
    return _zip(files, made, utf8_flag=True)


def _moodle_clean(name: str) -> str:
    """``clean_filename`` (PARAM_FILE) and ZipStream's ``filterFilename``: no path or
    reserved characters."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name)


@dataclass
class CanvasSubmission:
    """One student's handed-in files in a Canvas download: (file id, name, bytes)."""

    sortable_name: str  # "Peeters, Jan"
    user_id: int
    files: list[tuple[int, str, bytes]]
    late: bool = False
    anonymous_id: str | None = None  # the submission's anonymous id, with anonymous grading


def canvas_download(submissions: list[CanvasSubmission], made=DOWNLOADED) -> bytes:
    """A "Download Submissions" zip as Canvas writes it.

    ``lib/content_zipper.rb``: ``get_filename`` joins the user's name (``sortable_name``,
    ``_<digits>_`` taken out, lowercased) or nothing under anonymous grading, ``LATE`` if
    late, and the user id (``anon_<anonymous id>`` under anonymous grading), keeping word
    characters only; ``add_upload_submission`` adds ``_<file id>_<file name>``. rubyzip
    writes the names' UTF-8 bytes without the zip's UTF-8 mark and stamps entries with the
    moment of zipping.
    """
    files = {}
    for submission in submissions:
        if submission.anonymous_id:
            parts = ["LATE"] if submission.late else []
            parts.append(f"anon_{submission.anonymous_id}")
        else:
            name = re.sub(r"_(\d+)_", r"\1", submission.sortable_name).lower()
            parts = [name] + (["LATE"] if submission.late else []) + [str(submission.user_id)]
        prefix = re.sub(r"[^\w]", "", "_".join(parts))
        for file_id, display_name, data in submission.files:
            safe = re.sub(r'[\x00/\\:*?"<>|]+', "_", display_name)
            files[f"{prefix}_{file_id}_{safe}"] = data
    return _zip(files, made, utf8_flag=False)


def _zip(files: dict[str, bytes], made, utf8_flag: bool) -> bytes:
    """A zip of ``files``, every entry stamped ``made``; without ``utf8_flag``, non-ASCII
    names are written as UTF-8 bytes without the zip's mark (as rubyzip does)."""
    out = io.BytesIO()
    placeholders = {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(files.items()):
            raw = name.encode("utf-8")
            if not utf8_flag and not name.isascii():
                # Python marks non-ASCII names; write a placeholder of the same length in
                # bytes, then put the bare UTF-8 bytes in its place.
                placeholder = f"~{index:06d}~".ljust(len(raw), "~")
                placeholders[placeholder.encode()] = raw
                name = placeholder
            info = zipfile.ZipInfo(name, date_time=made)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    data = out.getvalue()
    for placeholder, raw in placeholders.items():
        data = data.replace(placeholder, raw)
    return data


def zip_of(files: dict[str, bytes]) -> bytes:
    """A compressed zip of ``files``, as a student makes one of their lesson folder."""
    return _zip(files, DOWNLOADED, utf8_flag=True)


def nested_zip(depth: int, inner: dict[str, bytes]) -> bytes:
    """A zip inside a zip ... ``depth`` deep, the innermost holding ``inner``."""
    data = _zip(inner, DOWNLOADED, utf8_flag=True)
    for level in range(depth - 1):
        data = _zip({f"level{level}.zip": data}, DOWNLOADED, utf8_flag=True)
    return data


MOODLE_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade",
                 "Maximum Grade", "Grade can be changed", "Last modified (submission)",
                 "Online text", "Last modified (grade)", "Feedback comments"]


def moodle_row(participant: int, name: str, submitted: str = "-", grade: str = "",
               maximum: str = "4.00", changeable: str = "Yes", comment: str = "",
               status: str = "Submitted for grading") -> list[str]:
    """A worksheet row as ``mod/assign/gradingtable.php`` downloads it: ``userdate()`` for
    the times, "-" when there is none."""
    email = re.sub(r"\W", "", name.lower()) + "@school.example"
    return [f"Participant {participant}", name, email, status, grade, maximum, changeable,
            submitted, "", "-" if not grade else submitted, comment]


def moodle_worksheet(rows: list[list[str]], *, encoding: str = "utf-8", separator: str = ",",
                     newline: str = "\n", bom: bool = True) -> bytes:
    """A grading worksheet as Moodle writes it (UTF-8 with a byte order mark, commas), or
    as a spreadsheet program saves it again (``encoding``, ``separator``, ``newline``)."""
    out = io.StringIO()
    csv.writer(out, delimiter=separator, lineterminator=newline).writerows(
        [MOODLE_HEADER, *rows])
    mark = b"\xef\xbb\xbf" if bom and encoding == "utf-8" else b""
    return mark + out.getvalue().encode(encoding)


CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                 "Quiz 1 (998)", "MNIST CNN (1234)", "Current Score", "Final Score"]


def canvas_export(students: list[tuple[str, int, str]], points: str = "4.00", *,
                  separator: str = ",", quiz: str = "8.00") -> bytes:
    """An entire-gradebook export as ``lib/gradebook_exporter.rb`` writes it: header, the
    "Points Possible" row, a row per student (name, id, SIS ids, section, a quiz, this
    assignment's score, totals). ``separator`` ';' is Canvas' own choice for languages with
    a decimal comma (``lib/csv_with_i18n.rb``), whose numbers then read ``8,00``."""
    def number(text: str) -> str:
        return text.replace(".", ",") if separator == ";" else text

    rows = [CANVAS_HEADER, ["    Points Possible", "", "", "", "", number("10.00"),
                            number(points), "(read only)", "(read only)"]]
    for name, user, score in students:
        rows.append([name, str(user), f"s{user}", f"u{user}@school", "Class 5B", number(quiz),
                     number(score), "80", "80"])
    out = io.StringIO()
    csv.writer(out, delimiter=separator, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def small_lesson() -> nbformat.NotebookNode:
    """A lesson of one answer (graded by a 2-point test) and one written answer (2 points),
    as nbgrader's source notebook holds it."""
    from nbgrader.tests import (
        create_grade_and_solution_cell,
        create_grade_cell,
        create_solution_cell,
    )

    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    notebook.cells = [
        create_solution_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION", "code",
                             "answer"),
        create_grade_cell("assert answer == 42, 'the answer is not 42'", "code",
                          "test_answer", 2),
        create_grade_and_solution_cell("Why 42?", "markdown", "explain", 2),
    ]
    return notebook


def handed_in(answer: str, marker: str = "") -> bytes:
    """The small lesson as a student hands it in, with ``answer`` in the answer cell."""
    notebook = small_lesson()
    notebook.cells[0].source = answer + (f"  # {marker}" if marker else "")
    notebook.cells[0].metadata.nbgrader["checksum"] = "changed"
    return nbformat.writes(notebook).encode()


def scratch_notebook(text: str = "print('trying things')") -> bytes:
    """A notebook that is not the lesson (Jupyter's Untitled.ipynb)."""
    return nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(text)])).encode()
