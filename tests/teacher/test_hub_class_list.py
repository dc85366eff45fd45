"""Does `course hub` put the class list in the classroom's gradebook, with real nbgrader:
every student with their name, names brought up to date and new students added when it
runs again, in one nbgrader start for the whole class (each start takes seconds)?

The teacher's account is stood in for by this process (the command runs as whoever runs
the test); the classroom test (tests/teacher/test_classroom.py) runs it as the teacher."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

from course_lib.teacher import hub
from course_lib.teacher.hub_accounts import Member


def students_in(course: Path) -> dict[str, tuple[str | None, str | None]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as book:
        return {s.id: (s.first_name, s.last_name) for s in book.students}


def test_the_class_list_goes_into_the_gradebook_in_one_nbgrader_start(tmp_path, monkeypatch):
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'mnist'\n")
    started = []

    def as_teacher(user, command, cwd=None):
        started.append(command)
        listing = Path(command[-1])
        assert listing.parent == course and listing.name.startswith(".class-list-")
        assert listing.stat().st_uid == pwd.getpwnam(user).pw_uid
        subprocess.run(command, cwd=cwd, check=True, capture_output=True, timeout=120)

    monkeypatch.setattr(hub, "as_user", as_teacher)
    python = Path(sys.executable)
    teacher = pwd.getpwuid(os.getuid()).pw_name  # the list is given to this account

    hub._import_students(course, teacher, [Member("ada", "Ada Lovelace"),
                                             Member("bob", "Bob van der Berg"),
                                             Member("cem", "Cem")], python)
    assert students_in(course) == {"ada": ("Ada", "Lovelace"),
                                   "bob": ("Bob", "van der Berg"), "cem": ("Cem", None)}
    assert len(started) == 1
    assert started[0][1:] == ["-m", "course_lib.teacher.nbgrader_main", "db", "student",
                              "import", started[0][-1]]

    # Run again: a name corrected, a student added, nobody doubled; no list left behind.
    hub._import_students(course, teacher, [Member("ada", "Ada King"),
                                             Member("bob", "Bob van der Berg"),
                                             Member("cem", "Cem"),
                                             Member("dee", "Dee Çelik")], python)
    assert students_in(course) == {"ada": ("Ada", "King"), "bob": ("Bob", "van der Berg"),
                                   "cem": ("Cem", None), "dee": ("Dee", "Çelik")}
    assert len(started) == 2
    assert not list(course.glob(".class-list-*"))
