"""nbgrader's exchange on the classroom server, made so that it belongs to the teacher.

nbgrader's documentation asks for an exchange root every account may write into; its
``release_assignment`` then makes the course's folder with ``outbound`` (0755), ``inbound``
(2733: students may add a folder but not list the others') and ``feedback`` (0711), owned
by whoever releases first. Left at that, a student who gets there first owns the
course's folder (and the teacher's release fails with "You don't own the directory"), and
without the sticky bit any student can rename the course's folder and put their own in
its place, so that classmates fetch the student's notebook and hand in where the student
reads.

:func:`prepare_exchange` (run by ``course hub``, as root) makes the root ``1777`` (every
account may still add, as nbgrader checks, but only an entry's owner may rename or remove
it) and the course's folders in nbgrader's modes, owned by the teacher, before any
student can log in. ``inbound`` gets the sticky bit as well, so that a submission can be
removed or renamed only by the student who handed it in and by the teacher.
"""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

from course_lib.teacher.course import CourseError

ROOT_MODE = 0o1777
# nbgrader's modes (release_assignment.py, release_feedback.py), inbound with the sticky bit.
FOLDERS = {"": 0o755, "outbound": 0o755, "inbound": 0o3733, "feedback": 0o711}


def prepare_exchange(root: Path, course_id: str, teacher: str) -> Path:
    """Make (or put right) the exchange's root and the course's folders in it, owned by
    ``teacher``; return the course's folder. Refuses a course folder someone else made."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    status = os.lstat(root)
    if not stat.S_ISDIR(status.st_mode):
        raise CourseError(f"nbgrader's exchange {root} is not a folder (a link?): remove it "
                          "and run `course hub` again.")
    os.chown(root, 0, 0, follow_symlinks=False)
    os.chmod(root, ROOT_MODE)
    account = pwd.getpwnam(teacher)
    course = root / course_id
    for name, mode in FOLDERS.items():
        folder = course / name if name else course
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            _check_made_by_teacher(folder, account)
        os.chown(folder, account.pw_uid, account.pw_gid, follow_symlinks=False)
        os.chmod(folder, mode)
    return course


def _check_made_by_teacher(folder: Path, account: pwd.struct_passwd) -> None:
    status = os.lstat(folder)
    if stat.S_ISDIR(status.st_mode) and status.st_uid in (account.pw_uid, 0):
        return
    try:
        owner = pwd.getpwuid(status.st_uid).pw_name
    except KeyError:
        owner = f"uid {status.st_uid}"
    what = "a folder" if stat.S_ISDIR(status.st_mode) else "not a folder"
    raise CourseError(
        f"{folder} in nbgrader's exchange is {what} and belongs to {owner}, not to the "
        f"teacher ({account.pw_name}): someone made it before the classroom did, and what "
        f"it holds would be handed to the class. Look at it, remove it (sudo rm -r "
        f"'{folder}') and run `course hub` again.")
