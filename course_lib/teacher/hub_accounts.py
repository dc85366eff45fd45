"""The classroom's people: the class list, and a system account for each student and for
the teacher.

:func:`read_class_list` reads the class list (a CSV of ids and names) and refuses an id that
cannot be an account; :func:`check_accounts` refuses an id that names an account the course
did not make (``bin``, someone's own). :func:`ensure_account` makes a missing account, with
its home closed to others and a new password to hand out (:func:`new_password`: no
look-alike characters); :func:`keep_passwords` keeps those passwords in a file only root
reads, written by :func:`write_private`, which writes every private file of the hub.
"""

from __future__ import annotations

import csv
import os
import pwd
import secrets
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from course_lib.teacher.course import CourseError
from course_lib.teacher.hub_config import SYSTEM_PATH
from course_lib.teacher.hub_environments import run
from course_lib.teacher.student_ids import check_student_id

FIRST_REGULAR_UID = 1000  # Debian's UID_MIN: below are the system's own accounts
# Passwords a pupil can read off paper and type: no 0/O, 1/l/I look-alikes, no capitals.
PASSWORD_LETTERS = "abcdefghjkmnpqrstuvwxyz23456789"
PASSWORDS_FILE = "passwords.csv"  # in the state folder, root's alone


@dataclass(frozen=True)
class Member:
    """One line of the class list."""

    id: str
    name: str


def read_class_list(path: Path) -> list[Member]:
    """The students of a class list: a CSV with a column ``id`` (the same ids as the
    gradebook's, which become the account names) and ``name`` (or ``first_name`` and
    ``last_name``). A row whose id cannot be an account is refused by line and id."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CourseError(f"The class list {path} cannot be read ({error}): give a CSV "
                          "file in UTF-8 with the columns id and name.") from None
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or "id" not in rows[0]:
        raise CourseError(f"The class list {path} needs a header with a column 'id' (and "
                          "'name', or 'first_name' and 'last_name'), e.g.\n"
                          "id,name\nada,Ada Lovelace")
    members, seen = [], set()
    for number, row in enumerate(rows, start=2):
        student = (row.get("id") or "").strip()
        name = (row.get("name") or " ".join(
            filter(None, [row.get("first_name"), row.get("last_name")])) or student).strip()
        try:
            # The id becomes a system account, a home folder and nbgrader's --student.
            check_student_id(student, account=True)
        except ValueError as error:
            raise CourseError(f"Line {number} of {path.name}: {error} Correct that line "
                              "of the class list and run `course hub` again.") from None
        if student in seen:
            raise CourseError(f"Line {number} of {path.name}: {student} is there twice.")
        seen.add(student)
        members.append(Member(student, name))
    return members


def check_accounts(class_list: Path, students: list[str], teacher: str,
                   created: set[str]) -> None:
    """Refuse ids that name an account this classroom did not make: ``course hub`` sets
    its accounts' passwords and closes their homes, which must never happen to ``bin`` or
    to someone's own account. The teacher may be a person's own (not a system) account."""
    for student in students:
        if student in created:
            continue
        try:
            account = pwd.getpwnam(student)
        except KeyError:
            continue
        raise CourseError(
            f"{Path(class_list).name}: the id {student!r} is an account that already exists "
            f"on this server (uid {account.pw_uid}, {account.pw_gecos or 'no description'}) "
            "and was not made by `course hub`; a student's account must be made by the "
            "course. Give this student another id in the class list (e.g. "
            f"{student}.student) and run `course hub` again.")
    if teacher not in created:
        try:
            account = pwd.getpwnam(teacher)
        except KeyError:
            return
        if account.pw_uid < FIRST_REGULAR_UID:
            raise CourseError(f"The teacher's account {teacher!r} (--teacher) is one of the "
                              f"system's own (uid {account.pw_uid}): choose another, e.g. "
                              "--teacher teacher.")


def ensure_account(member: Member) -> str | None:
    """Make the account if it is missing; return its new password (None if it existed)."""
    try:
        pwd.getpwnam(member.id)
        fresh = None
    except KeyError:
        run(["useradd", "--create-home", "--shell", "/bin/bash", "--comment",
             member.name.replace(":", " "), member.id])
        fresh = new_password()
        subprocess.run([shutil.which("chpasswd", path=SYSTEM_PATH) or "chpasswd"],
                       input=f"{member.id}:{fresh}\n", text=True, check=True)
    account = pwd.getpwnam(member.id)
    home = Path(account.pw_dir)
    home.mkdir(parents=True, exist_ok=True)
    status = os.lstat(home)
    # Nobody reads another's home (Debian makes homes 755); never through a link.
    if stat.S_ISDIR(status.st_mode) and status.st_uid == account.pw_uid:
        home.chmod(0o700)
    return fresh


def new_password() -> str:
    """A password of 12 letters and digits without look-alikes, in groups of four."""
    letters = "".join(secrets.choice(PASSWORD_LETTERS) for _ in range(12))
    return "-".join(letters[i:i + 4] for i in range(0, 12, 4))


def write_private(path: Path, text: str) -> None:
    """Write ``path`` readable by its owner alone from the moment it exists: a new file
    made 0600, then put in the old one's place (a link there is replaced, never followed;
    the hub reading it meanwhile sees the old or the new text, never half)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                     | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def keep_passwords(state: Path, passwords: dict[str, str]) -> None:
    """Add new accounts' passwords to a file only root reads, for handing them out."""
    path = state / PASSWORDS_FILE
    rows = dict(csv.reader(path.read_text().splitlines())) if path.is_file() else {}
    rows.update(passwords)
    write_private(path, "".join(f"{k},{v}\n" for k, v in sorted(rows.items())))
