"""Copy a folder that someone else controls: its regular files only, no link ever followed.

A submission in nbgrader's exchange is a folder its student made and can still change. A
plain copy (``shutil.copytree``) follows a symbolic link inside it with the rights of
whoever copies, so a link to the teacher's source notebook or gradebook would arrive as an
ordinary file holding the target's content, and a named pipe would stop the copy for the
whole class. :func:`copy_regular_files` opens every folder and file relative to the one
above it with ``O_NOFOLLOW`` (a link is refused by the kernel, even one swapped in while
copying), copies what turns out to be a regular file owned by an expected account, and
leaves out, with a reason, links, pipes, sockets, devices and files of other accounts (a
hard link to someone else's file). It also returns the latest change time (``ctime``) of
everything it copied, read after copying: the kernel sets it and nobody can set it back.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

MAX_DEPTH = 32  # folders within folders: far more than a submission has
MAX_ENTRIES = 10_000  # files and folders in one submission
_CHUNK = 1 << 20
_OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a named pipe must not wait for a writer.
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class CopyRefused(RuntimeError):
    """The folder as a whole cannot be copied (too large, too many files, not a folder)."""


@dataclass
class CopyReport:
    """What a copy took and what it left out."""

    files: int = 0
    size: int = 0
    latest_change: float = 0.0  # the greatest ctime seen, after reading
    left_out: list[str] = field(default_factory=list)  # "path: why"


def copy_regular_files(source: Path, destination: Path, *, owners: Collection[int],
                       skip: Callable[[str, bool, int], bool] = lambda *_: False,
                       max_size: int | None = None) -> CopyReport:
    """Copy the folder ``source`` (itself not a link) to the new folder ``destination``.

    Only folders and regular files owned by one of the ``owners`` (uids) are copied;
    ``skip(relative_path, is_folder, size)`` may leave out more by returning True. Raises
    :class:`CopyRefused` if ``source`` is not a folder, holds more than ``max_size`` bytes
    of files or more than :data:`MAX_ENTRIES` entries; ``destination`` is then incomplete
    and the caller removes it.
    """
    report = CopyReport()
    try:
        top = os.open(source, _OPEN_FOLDER)
    except OSError as error:
        raise CopyRefused(f"{source} is not a folder ({error.strerror})") from None
    try:
        _check_owner(os.fstat(top), owners, "the folder")
        os.mkdir(destination, 0o755)
        _copy_folder(top, destination, "", 0, report, set(owners), skip, max_size)
        report.latest_change = max(report.latest_change, os.fstat(top).st_ctime)
    finally:
        os.close(top)
    return report


def _check_owner(status: os.stat_result, owners: Collection[int], what: str) -> None:
    if status.st_uid not in owners:
        raise CopyRefused(f"{what} belongs to another account (uid {status.st_uid})")


def _copy_folder(folder: int, destination: Path, prefix: str, depth: int,
                 report: CopyReport, owners: set[int], skip, max_size: int | None) -> None:
    with os.scandir(folder) as listing:
        names = sorted(entry.name for entry in listing)
    for name in names:
        report.files += 1
        if report.files > MAX_ENTRIES:
            raise CopyRefused(f"it holds more than {MAX_ENTRIES:,} files and folders")
        relative = f"{prefix}{name}"
        try:
            status = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            continue  # removed while copying
        kind = _kind(status.st_mode)
        if kind not in ("folder", "file"):
            report.left_out.append(f"{relative}: {kind}, not a file (never copied)")
            continue
        if skip(relative, kind == "folder", status.st_size):
            continue
        if status.st_uid not in owners:
            report.left_out.append(f"{relative}: it belongs to another account (uid "
                                   f"{status.st_uid}), so it was not handed in by its owner")
            continue
        if kind == "folder":
            if depth >= MAX_DEPTH:
                report.left_out.append(f"{relative}: folders nested over {MAX_DEPTH} deep")
                continue
            _copy_subfolder(folder, name, destination, relative, depth, report, owners, skip,
                            max_size)
        else:
            _copy_file(folder, name, destination / name, relative, report, owners, max_size)


def _copy_subfolder(folder: int, name: str, destination: Path, relative: str, depth: int,
                    report: CopyReport, owners: set[int], skip, max_size) -> None:
    try:
        inner = os.open(name, _OPEN_FOLDER, dir_fd=folder)
    except OSError as error:  # swapped for a link or removed since the listing
        report.left_out.append(f"{relative}: cannot be opened as a folder ({error.strerror})")
        return
    try:
        os.mkdir(destination / name, 0o755)
        _copy_folder(inner, destination / name, relative + "/", depth + 1, report, owners,
                     skip, max_size)
        report.latest_change = max(report.latest_change, os.fstat(inner).st_ctime)
    finally:
        os.close(inner)


def _copy_file(folder: int, name: str, target: Path, relative: str, report: CopyReport,
               owners: set[int], max_size: int | None) -> None:
    try:
        handle = os.open(name, _OPEN_FILE, dir_fd=folder)
    except OSError as error:  # ELOOP: a link swapped in since the listing
        report.left_out.append(f"{relative}: cannot be opened as a file ({error.strerror})")
        return
    try:
        status = os.fstat(handle)
        kind = _kind(status.st_mode)
        if kind != "file" or status.st_uid not in owners:
            report.left_out.append(f"{relative}: changed while copying (now {kind} of uid "
                                   f"{status.st_uid})")
            return
        with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                               | os.O_CLOEXEC, 0o644), "wb") as written:
            while chunk := os.read(handle, _CHUNK):
                report.size += len(chunk)
                if max_size is not None and report.size > max_size:
                    raise CopyRefused(f"its files hold more than {max_size:,} bytes")
                written.write(chunk)
        # Read after copying: any change made before the last byte was read shows here.
        report.latest_change = max(report.latest_change, os.fstat(handle).st_ctime)
    finally:
        os.close(handle)


def _kind(mode: int) -> str:
    """A file's kind, in words."""
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISLNK(mode):
        return "a link"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"
