"""nbgrader's collect from the exchange, trusting what the exchange records, not the student.

nbgrader keeps each handed-in assignment in the exchange's ``inbound/`` folder as
``<student>+<assignment>+<time>+<random>``. Every account may write into ``inbound/``,
under any name, and owns what it puts there; nbgrader's own collector believes the name
(whose submission, and when), copies with ``shutil.copytree`` (following links with the
teacher's rights) and stops for the whole class at the first folder it cannot read.
:class:`CheckedCollect` keeps nbgrader's steps (which submission of each student, the
due date, ``--update``) and changes what it trusts:

* **whose**: a submission is collected only if its folder was made by the account of the
  student it names (or by the account collecting, who could write ``submitted/`` anyway);
  a folder named as a classmate's is refused and named, and so is an unsafe id such as
  ``*`` (:func:`~course_lib.teacher.student_ids.check_student_id`);
* **what**: regular files and folders only (:mod:`course_lib.teacher.safe_copy`): links,
  pipes, sockets, devices and files of other accounts are left out with a warning;
* **when**: the hand-in time is the latest *change time* (``ctime``) the kernel recorded
  for the submission's folder and files, not the time in the folder's name or in its
  ``timestamp.txt``, which the student writes. ``utime`` can set a file's modification time
  to anything, but every change, ``utime`` included, sets the change time to *now*: a
  student can make a submission look later (as if handed in again), never earlier. It is
  written to ``submitted/<student>/<assignment>/timestamp.txt``, where nbgrader reads it
  for late penalties;
* **one student's problem stays theirs**: a malformed folder (a name without a time
  nbgrader writes, not a folder, too large) is refused with a warning, and the other
  students are collected.

The course's ``nbgrader_config.py`` makes it nbgrader's collector (``nbgrader collect`` and
Formgrader's *Collect*), and ``course collect`` names it on the command line as well.
"""

from __future__ import annotations

import datetime
import fnmatch
import os
import pwd
import secrets
import shutil
import stat
from collections import defaultdict
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.utils import check_mode, parse_utc

from course_lib.teacher.safe_copy import CopyRefused, copy_regular_files
from course_lib.teacher.student_ids import check_student_id

REFUSED = "Not collecting"  # begins each warning about a refused submission
LEFT_OUT = "Left out"  # begins each warning about a file left out of a submission
COLLECTOR = f"{__name__}.CheckedCollect"  # for nbgrader's ExchangeFactory.collect
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"  # nbgrader's own, in UTC


class CheckedCollect(ExchangeCollect):
    """nbgrader's collector, trusting the exchange's owners and times, copying files only."""

    def init_src(self):
        """Find the latest acceptable submission of each student (before the due date with
        ``--before-duedate``), as nbgrader does, refusing the ones that are not."""
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if not check_mode(self.inbound_path, read=True, execute=True):
            self.fail(f"You don't have read permissions for the directory: "
                      f"{self.inbound_path}")
        records = [record for name in sorted(os.listdir(self.inbound_path))
                   if (record := self._record(name)) is not None]
        by_student = defaultdict(list)
        for record in records:
            by_student[record["username"]].append(record)
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
            try:
                self.duedate = gradebook.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                self.duedate = None
        self.src_records = []
        for handed_in in by_student.values():
            handed_in = self._sort_by_timestamp(handed_in)
            if self.duedate is not None and self.before_duedate:
                in_time = [r for r in handed_in if r["timestamp"] <= self.duedate]
                handed_in = in_time or handed_in
            self.src_records.append(handed_in[0])

    def _record(self, name: str) -> dict | None:
        """The submission ``inbound/name`` of this assignment, or None (with a warning if it
        is refused, silently if it is another assignment's or another student's)."""
        parts = name.split("+")
        if len(parts) < 2 or parts[1] != self.coursedir.assignment_id:
            return None
        student = parts[0]
        if self.coursedir.student_id and not fnmatch.fnmatchcase(
                student, self.coursedir.student_id):
            return None
        try:
            check_student_id(student)
            if len(parts) not in (3, 4):
                raise ValueError("its name is not <student>+<assignment>+<time>+<random>, "
                                 "as nbgrader's Submit makes it")
            try:
                parse_utc(parts[2])
            except (ValueError, OverflowError):
                raise ValueError(f"the time in its name, {parts[2]!r}, is not one nbgrader's "
                                 "Submit writes") from None
            status = os.lstat(os.path.join(self.inbound_path, name))
            if not stat.S_ISDIR(status.st_mode):
                raise ValueError("it is not a folder (a link or a file), so it was not made "
                                 "by nbgrader's Submit")
            owners = self._owners(student, status.st_uid)
        except (ValueError, OSError) as error:
            self.log.warning("%s %s from the exchange: %s. The student can hand in again "
                             "with Submit.", REFUSED, name, str(error).rstrip("."))
            return None
        return {"username": student, "filename": name, "owners": owners,
                "timestamp": _utc(status.st_ctime)}

    def _owners(self, student: str, made_by: int) -> set[int]:
        """The accounts whose files count as ``student``'s; raise if ``made_by`` (the owner of
        the submission's folder) is not one of them."""
        trusted = {os.geteuid()}  # the teacher collecting could write submitted/ anyway
        try:
            trusted.add(pwd.getpwnam(student).pw_uid)
            account = f"the account {student}"
        except KeyError:
            account = f"an account {student} (there is none on this computer)"
        if made_by not in trusted:
            raise ValueError(f"it is named as {student}'s submission but was made by the "
                             f"account {_account_name(made_by)}, not by {account}: a "
                             "submission counts only when its own student hands it in "
                             "(someone handing in in a classmate's name?).")
        return {made_by}

    def copy_files(self):
        """Copy each chosen submission into ``submitted/``; one that cannot be copied is
        refused with a warning, and the others are still collected."""
        if not self.src_records:
            self.log.warning("No submissions of '%s' for course '%s' to collect",
                             self.coursedir.assignment_id, self.coursedir.course_id)
        else:
            self.log.info("Processing %d submissions of '%s' for course '%s'",
                          len(self.src_records), self.coursedir.assignment_id,
                          self.coursedir.course_id)
        for record in self.src_records:
            try:
                self._collect(record)
            except (CopyRefused, OSError) as error:
                self.log.warning("%s %s from the exchange: %s", REFUSED, record["filename"],
                                 error)

    def _collect(self, record: dict) -> None:
        student, assignment = record["username"], self.coursedir.assignment_id
        destination = Path(self.coursedir.format_path(self.coursedir.submitted_directory,
                                                      student, assignment))
        if destination.is_dir():
            existing = self.coursedir.get_existing_timestamp(str(destination))
            newer = existing is None or record["timestamp"] > existing
            if not ((self.update and newer) or (self.before_duedate
                                                  and existing != record["timestamp"])):
                self.log.info("%s: %s %s", "No newer submission to collect" if self.update
                              else "Submission already exists, use --update to update",
                              student, assignment)
                return
        destination.parent.mkdir(parents=True, exist_ok=True)
        # Copied beside its place first: a refused copy leaves the previous one as it was.
        partial = destination.parent / f".collecting-{assignment}-{secrets.token_hex(4)}"
        try:
            report = copy_regular_files(
                Path(self.inbound_path) / record["filename"], partial,
                owners=record["owners"], skip=self._skip,
                max_size=1000 * self.coursedir.max_dir_size)
            for problem in report.left_out:
                self.log.warning("%s %s's %s", LEFT_OUT, student, problem)
            handed_in = max(record["timestamp"], _utc(report.latest_change))
            (partial / "timestamp.txt").unlink(missing_ok=True)  # the student's, not ours
            (partial / "timestamp.txt").write_text(handed_in.strftime(TIME_FORMAT))
            if destination.exists():
                self.log.info("Updating submission: %s %s", student, assignment)
                shutil.rmtree(destination)
            else:
                self.log.info("Collecting submission: %s %s (handed in %s)", student,
                              assignment, handed_in.strftime(TIME_FORMAT))
            partial.rename(destination)
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    def _skip(self, relative: str, is_folder: bool, size: int) -> bool:
        """Whether the course's settings leave this file out, as nbgrader's copy would
        (``CourseDirectory.ignore``, ``include`` and ``max_file_size``)."""
        name = relative.rsplit("/", 1)[-1]
        if any(fnmatch.fnmatch(name, pattern) for pattern in self.coursedir.ignore):
            return True
        if is_folder:
            return False
        include = self.coursedir.include
        if include and not any(fnmatch.fnmatch(name, pattern) for pattern in include):
            return True
        if self.coursedir.max_file_size and size > 1000 * self.coursedir.max_file_size:
            self.log.warning("%s %s: it is larger than CourseDirectory.max_file_size",
                             LEFT_OUT, relative)
            return True
        return False


def _utc(seconds: float) -> datetime.datetime:
    """A time of the kernel's as nbgrader compares times: naive, in UTC."""
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).replace(tzinfo=None)


def _account_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"with uid {uid}"
