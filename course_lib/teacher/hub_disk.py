"""A disk cap per student on the classroom server: the file system's own user quotas.

Without a cap, one student's files (a loop that saves a model each step, a big download)
can fill the disk the whole class writes to. Linux's user quotas are the usual tool on a
school server (ext4 and XFS have them): once they are on for a file system, ``course hub
--disk-mb N`` sets each student's limit there with ``setquota`` (soft and hard limit the
same: past it, writing fails with "Disk quota exceeded"). The cap counts every file the
student owns on that file system: their home, and the exchange and ``/tmp`` when they are
on it too.

Quotas are turned on by the server's administrator, not by ``course hub`` (it means a
mount option in ``/etc/fstab`` and a remount); where they are off, ``course hub`` and
``course hub status`` say so plainly, with the commands that turn them on.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from course_lib.teacher.hub_config import SYSTEM_PATH


@dataclass(frozen=True)
class FileSystem:
    """The file system holding a path: where it is mounted, from where, of which type."""

    mount: Path
    device: str
    kind: str


def file_system_of(path: Path) -> FileSystem:
    """The file system that holds ``path`` (the last mount there, as the kernel lists)."""
    path = Path(path).resolve()
    mount = path
    while not os.path.ismount(mount):
        mount = mount.parent
    device, kind = "?", "?"
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 3 and _unescape(fields[1]) == str(mount):
            device, kind = fields[0], fields[2]
    return FileSystem(mount, device, kind)


def _unescape(text: str) -> str:
    return text.replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")


def _tool(name: str) -> str | None:
    return shutil.which(name, path=SYSTEM_PATH)


def quotas_on(fs: FileSystem) -> bool:
    """Whether user quotas are in force on ``fs`` (False without the quota tools)."""
    quotaon = _tool("quotaon")
    if quotaon is None:
        return False
    done = subprocess.run([quotaon, "-p", "-u", str(fs.mount)], capture_output=True,
                          text=True, check=False)
    # quotaon -p says "user quota on MOUNT (DEVICE) is on" (or "is on (enforced)").
    return any(line.startswith("user quota") and " is on" in line
               for line in done.stdout.splitlines())


def how_to_turn_on(fs: FileSystem) -> str:
    """What the administrator does to turn user quotas on for ``fs``."""
    install = "" if _tool("quotaon") else "apt install quota; "
    if fs.kind == "xfs":
        return (f"{install}add the mount option uquota to {fs.mount} in /etc/fstab and "
                "reboot (XFS turns quotas on at mount time only), then run `course hub` "
                "again")
    return (f"{install}add the mount option usrquota to {fs.mount} in /etc/fstab, then "
            f"mount -o remount {fs.mount}; quotacheck -cum {fs.mount}; quotaon -u "
            f"{fs.mount}; then run `course hub` again")


def set_cap(account: str, disk_mb: int, fs: FileSystem) -> None:
    """Limit what ``account`` may store on ``fs`` to ``disk_mb`` MB (0: no limit)."""
    blocks = str(disk_mb * 1024)  # setquota counts 1 KiB blocks
    done = subprocess.run([_tool("setquota") or "setquota", "-u", account, blocks, blocks,
                           "0", "0", str(fs.mount)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        from course_lib.teacher.course import CourseError

        raise CourseError(f"Could not set the disk cap of {account} on {fs.mount}: "
                          f"{(done.stderr or done.stdout).strip()}")


def cap_of(account: str, fs: FileSystem) -> tuple[int, int] | None:
    """``account``'s use and hard limit on ``fs`` in KiB (limit 0: none), or None when
    they cannot be read (no quotas there)."""
    quota = _tool("quota")
    if quota is None:
        return None
    done = subprocess.run([quota, "-u", "-v", "-w", f"--filesystem={fs.mount}", account],
                          capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        fields = line.split()
        # "DEVICE BLOCKS[*] SOFT HARD [GRACE] FILES ...": BLOCKS ends in * when over.
        if len(fields) >= 4 and fields[1].rstrip("*").isdigit() and fields[3].isdigit():
            return int(fields[1].rstrip("*")), int(fields[3])
    return None


def places(students: list[str], others: list[Path]) -> list[FileSystem]:
    """The file systems students write to: their homes', and ``others``' (the exchange,
    /tmp), each once."""
    found: dict[Path, FileSystem] = {}
    homes = [Path(pwd.getpwnam(student).pw_dir) for student in students]
    for path in [*homes, *others]:
        if path.exists():
            fs = file_system_of(path)
            found.setdefault(fs.mount, fs)
    return list(found.values())


def apply_caps(students: list[str], disk_mb: int, others: list[Path], report=print) -> None:
    """Set each student's cap on every file system they write to that has quotas on;
    say plainly, with what to do, where there are none."""
    for fs in places(students, others):
        if quotas_on(fs):
            for student in students:
                set_cap(student, disk_mb, fs)
            if disk_mb:
                report(f"Disk cap: {disk_mb:,} MB per student on {fs.mount}.")
        elif disk_mb:
            report(f"NO disk cap on {fs.mount} ({fs.kind}, {fs.device}): user quotas are "
                   f"off there, so one student can fill it for the class. To turn them "
                   f"on: {how_to_turn_on(fs)}.")


def describe(account: str, disk_mb: int) -> str:
    """One line for ``course hub status``: is a disk cap in force for ``account``?"""
    try:
        fs = file_system_of(Path(pwd.getpwnam(account).pw_dir))
    except KeyError:
        return f"{account}: no such account"
    if not quotas_on(fs):
        return (f"{account}: NO disk cap (user quotas are off on {fs.mount}, "
                f"{fs.kind})")
    found = cap_of(account, fs)
    if found is None or found[1] == 0:
        return f"{account}: NO disk cap on {fs.mount} (run `course hub --disk-mb N`)"
    used, limit = found
    return (f"{account}: disk cap in force ({used / 1024:,.0f} of {limit / 1024:,.0f} MB "
            f"used on {fs.mount})")


def status_lines(students: list[str], disk_mb: int) -> list[str]:
    """``course hub status``'s lines on disk caps: one per student, then what to do if
    quotas are off."""
    lines = [f"disk per student: {f'{disk_mb:,} MB' if disk_mb else 'no cap set'}"]
    lines += ["  " + describe(student, disk_mb) for student in students]
    off = [fs for fs in places([s for s in students if account_exists(s)], []) if not quotas_on(fs)]
    lines += [f"  to turn quotas on for {fs.mount}: {how_to_turn_on(fs)}" for fs in off]
    return lines


def account_exists(account: str) -> bool:
    """Whether the system has an account ``account``."""
    try:
        pwd.getpwnam(account)
    except KeyError:
        return False
    return True
