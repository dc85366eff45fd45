"""The files of a download from a learning platform, read within limits.

A download is a zip file (or the folder it was unpacked into) that holds every student's
work, and a student's work may itself be a zip. Whatever a student handed in is read
here, so nothing in it may cost the rest of the class: every file is read only up to the
limit for its kind (a zip's own sizes are not trusted: a 450 KB zip can expand to 200 MiB),
zips inside zips are opened only :data:`MAX_ZIP_DEPTH` deep, and the caller counts what
each student and each download has used (:class:`Budget`). Names in a zip are decoded as
the platform wrote them: with the zip's UTF-8 mark (Moodle's ZipStream), or as UTF-8 bytes
without it (Canvas' rubyzip), else as the zip format's old code page.
"""

from __future__ import annotations

import io
import os
import stat
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MiB = 1024 * 1024
MAX_NOTEBOOK_BYTES = 64 * MiB  # the lesson with every output and picture in it: a few MiB
MAX_PICTURE_BYTES = 20 * MiB  # a phone photo of a digit: 2-8 MiB
MAX_ZIP_BYTES = 128 * MiB  # a student's own zip (of the lesson folder), as stored
MAX_ZIP_DEPTH = 3  # the download, a student's zip in it, one zip inside that
MAX_STUDENT_BYTES = 256 * MiB  # everything read for one student
MAX_STUDENT_FILES = 500  # files of one student, zips' contents included
MAX_DOWNLOAD_BYTES = 8 * 1024 * MiB  # everything read from one download
MAX_DOWNLOAD_FILES = 50_000  # files in one download, zips' contents included
_UTF8_FLAG = 0x800  # zip's general purpose bit 11: the names are UTF-8


class TooLarge(ValueError):
    """A file is larger than what may be read of it."""


@dataclass
class Entry:
    """A file in a download: its path (a zip inside appears as a folder of that zip's
    name) and a way to read it."""

    parts: tuple[str, ...]
    depth: int  # 1 for a file of the download itself, 2 inside a zip in it, ...
    _open: Callable[[], BinaryIO]

    @property
    def path(self) -> str:
        """The path as the teacher sees it in the download."""
        return "/".join(self.parts)

    def read(self, limit: int) -> bytes:
        """The file's bytes; :class:`TooLarge` if it holds more than ``limit`` bytes.

        Only ``limit + 1`` bytes are ever decompressed, whatever the zip claims.
        """
        with self._open() as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(f"larger than {limit // MiB} MiB")
        return data


@dataclass
class Budget:
    """What one student, or one download, may still read: bytes and files."""

    bytes_left: int
    files_left: int

    def take_file(self) -> bool:
        """Count one more file; False once there are more than allowed."""
        self.files_left -= 1
        return self.files_left >= 0

    def take_bytes(self, count: int) -> None:
        """Count ``count`` bytes read."""
        self.bytes_left -= count


@contextmanager
def opened(source: Path) -> Iterator[list[Entry]]:
    """The files of a download (a zip, a folder, or a single file), open while in use.

    Raises zipfile.BadZipFile for a ``.zip`` that is not one.
    """
    source = Path(source)
    if source.is_dir():
        yield list(_folder_entries(source))
    elif source.suffix.lower() == ".zip":
        with zipfile.ZipFile(source) as archive:
            yield _zip_entries(archive, (), 1)
    else:
        yield [Entry((source.name,), 1, lambda: open(source, "rb"))]


def inside(data: bytes, entry: Entry) -> list[Entry]:
    """The files of a zip that is itself a file of the download (a student's own zip).

    Raises zipfile.BadZipFile if it is not a zip.
    """
    return _zip_entries(zipfile.ZipFile(io.BytesIO(data)), entry.parts, entry.depth + 1)


def _zip_entries(archive: zipfile.ZipFile, prefix: tuple[str, ...], depth: int) -> list[Entry]:
    entries = []
    for info in archive.infolist():
        if info.is_dir() or stat.S_ISLNK(info.external_attr >> 16):
            continue  # folders appear in their files' paths; links are never followed
        parts = tuple(p for p in _name(info).split("/") if p not in ("", "."))
        if parts:
            entries.append(Entry(prefix + parts, depth,
                                 lambda info=info: archive.open(info)))
    return entries


def _name(info: zipfile.ZipInfo) -> str:
    """A zip entry's name as it was meant: UTF-8 without the zip's mark is UTF-8 still."""
    name = info.filename
    if not info.flag_bits & _UTF8_FLAG:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass  # a name in the zip format's old code page after all
    return unicodedata.normalize("NFC", name)


def _folder_entries(folder: Path) -> Iterator[Entry]:
    for root, folders, files in os.walk(folder):  # links to folders are not entered
        folders.sort()
        for name in sorted(files):
            path = Path(root, name)
            if path.is_symlink() or not path.is_file():
                continue  # a link could point anywhere on this computer
            parts = tuple(unicodedata.normalize("NFC", p)
                          for p in path.relative_to(folder).parts)
            yield Entry(parts, 1, lambda path=path: open(path, "rb"))
