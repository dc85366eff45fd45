"""CSV files a learning platform wrote: read, and written back the way they came.

Moodle's grading worksheet and Canvas' gradebook export leave the platform as UTF-8 with
commas, but a teacher may open them in a spreadsheet program first, which saves them in its
own encoding (Windows-1252 in Western Europe) and, with Dutch, German or French settings,
with semicolons and decimal commas. Both platforms take such files back: Moodle's "Upload
grading worksheet" form asks for the encoding and the separator
(``mod/assign/feedback/offline/uploadgradesform.php``, ``lib/csvlib.class.php``), and Canvas
writes ``;`` itself for languages with a decimal comma and finds it again on import
(``lib/csv_with_i18n.rb``, ``lib/gradebook_importer.rb``, which also reads ``8,5`` as 8.5).

:func:`read` finds how a file was written (:class:`Table`); :func:`to_bytes` writes a table
back the same way (or in another encoding, for a platform that reads only UTF-8).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from course_lib.teacher.course import CourseError

UTF8, UTF16, WINDOWS_1252 = "utf-8", "utf-16", "cp1252"
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", ":": "colon"}  # Moodle's names
_BOMS = {UTF8: b"\xef\xbb\xbf"}


@dataclass
class Table:
    """A CSV file's rows and how it was written."""

    rows: list[list[str]]
    encoding: str  # UTF8, UTF16 or WINDOWS_1252
    bom: bool  # began with a byte order mark (UTF-8); UTF-16 always has one
    separator: str
    newline: str

    def describe(self) -> str:
        """How the file is written, in the words of Moodle's upload form."""
        name = {UTF8: "UTF-8", UTF16: "UTF-16", WINDOWS_1252: "WINDOWS-1252"}[self.encoding]
        return f"encoding {name}, separator {SEPARATORS[self.separator]}"


def read(path: Path, what: str) -> Table:
    """The table in ``path``, however a platform or a spreadsheet program wrote it.

    ``what`` names the file for the teacher (``the grading worksheet ...``). Refuses a file
    that is missing, empty, or neither UTF-8, UTF-16 nor Windows-1252 text.
    """
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"There is no file {path}: give the path of the {what} you "
                          "downloaded.")
    raw = path.read_bytes()
    text, encoding, bom = _decode(raw, path, what)
    header = text.splitlines()[0] if text.strip() else ""
    if not header.strip():
        raise CourseError(f"{path.name} is empty: download the {what} again.")
    separator = max(SEPARATORS, key=lambda s: (len(next(csv.reader([header], delimiter=s))),
                                               s == ","))
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    return Table(rows, encoding, bom, separator, "\r\n" if "\r\n" in text else "\n")


def _decode(raw: bytes, path: Path, what: str) -> tuple[str, str, bool]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode(UTF16), UTF16, True
    try:
        return raw.decode("utf-8-sig"), UTF8, raw.startswith(_BOMS[UTF8])
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode(WINDOWS_1252), WINDOWS_1252, False
    except UnicodeDecodeError as error:
        raise CourseError(
            f"{path.name} is neither UTF-8 nor Windows-1252 text (byte {error.start} is "
            f"{raw[error.start]:#x}). Download the {what} again and give it as it came, or "
            "save it as 'CSV UTF-8'.") from None


def to_bytes(table: Table, encoding: str | None = None) -> bytes:
    """The table written as it came: same encoding, byte order mark, separator and line
    ends (or in another ``encoding``, without a byte order mark for UTF-8)."""
    encoding = encoding or table.encoding
    out = io.StringIO()
    csv.writer(out, delimiter=table.separator, lineterminator=table.newline).writerows(
        table.rows)
    bom = table.bom and encoding == table.encoding
    data = out.getvalue().encode(encoding)  # UTF-16 writes its own byte order mark
    return (_BOMS.get(encoding, b"") if bom else b"") + data


def column(header: list[str], *names: str) -> int | None:
    """The index of the first column called one of ``names`` (case aside), or None."""
    wanted = {name.lower() for name in names}
    for index, title in enumerate(header):
        if title.strip().lower() in wanted:
            return index
    return None


def require(index: int | None, name: str, header: list[str], path: Path, what: str) -> int:
    """``index``, or a refusal that says the file has no column ``name`` and lists its
    columns."""
    if index is None:
        raise CourseError(
            f"{Path(path).name} has no column '{name}', so it is not {what}. Its columns "
            "are: " + ", ".join(repr(h) for h in header) + ". (The platform names columns "
            "in the language you use it in: switch it to English before downloading.)")
    return index


def number(text: str) -> float | None:
    """A number as a platform or a spreadsheet program writes it: ``4.00``, ``4,00``,
    ``1,234.50`` or ``1.234,50``; None for an empty cell, ``-`` or anything else."""
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." in text:
        decimal = "," if text.rindex(",") > text.rindex(".") else "."
        text = text.replace("." if decimal == "," else ",", "").replace(",", ".")
    else:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def decimal_comma(cells: list[str]) -> bool:
    """Whether the numbers in ``cells`` are written with a decimal comma (``22,00``)."""
    return any("," in cell and number(cell) is not None and "." not in cell
               for cell in cells)


def points(value: float, comma: bool) -> str:
    """``value`` with two decimals, as the file writes its numbers."""
    text = f"{value:.2f}"
    return text.replace(".", ",") if comma else text
