"""Can a student of the classroom server log in only through the hub? A real SSH server
on 127.0.0.1 includes the drop-in `course hub` writes; the accounts are made by the
course's own account code and removed at the end."""

from __future__ import annotations

import json
import pwd
import shutil
import subprocess
from contextlib import contextmanager

import pytest
from helpers.accounts import SYSTEM_PATH
from helpers.hub_accounts import course_accounts
from helpers.sshd import running_sshd, ssh_login

from course_lib.teacher import hub, hub_logins


@contextmanager
def classroom(tmp_path, *, dropin: bool = True, shell: bool = True):
    """A student closed out as `course hub` does (drop-in and/or login shell) and a
    non-student (the teacher's kind of account): ``(student, password, other, password,
    drop-in folder)``."""
    group = hub_logins.students_group(tmp_path)
    dropins = tmp_path / "sshd_config.d"
    dropins.mkdir()
    try:
        with course_accounts("s", "t") as made:
            (student, student_password), (other, other_password) = made["s"], made["t"]
            hub_logins.enroll([student], group)
            if not shell:
                subprocess.run([shutil.which("usermod", path=SYSTEM_PATH), "--shell",
                                "/bin/bash", student], check=True)
            if dropin:
                hub_logins.write_ssh_dropin(group, tmp_path, config_dir=dropins)
            yield student, student_password, other, other_password, dropins
    finally:
        hub_logins.remove_group(group)


@pytest.mark.slow  # starts an SSH server
def test_a_student_cannot_log_in_over_ssh_but_others_can(tmp_path):
    """Is a student's password refused by a real SSH server that includes the drop-in,
    while another account's password logs in and runs a command?"""
    with classroom(tmp_path) as (student, password, other, other_password, dropins), \
            running_sshd(tmp_path / "sshd", dropins) as (port, log):
        assert (dropins / f"{hub_logins.students_group(tmp_path)}.conf").is_file()
        allowed = ssh_login(port, other, other_password)
        refused = ssh_login(port, student, password)
        assert allowed.returncode == 0 and allowed.stdout.strip() == other, allowed
        assert refused.returncode != 0, refused
        assert student not in refused.stdout
        assert "DenyGroups" in log.read_text()
        assert pwd.getpwnam(student).pw_shell == hub_logins.NO_LOGIN
        assert pwd.getpwnam(other).pw_shell == "/bin/bash"


@pytest.mark.slow  # starts an SSH server
@pytest.mark.parametrize("layer", ["dropin", "shell"])
def test_each_layer_alone_keeps_a_student_out_of_a_shell(tmp_path, layer):
    """Does the drop-in alone refuse the login, and does the login shell alone end the
    session before the command runs?"""
    with classroom(tmp_path, dropin=layer == "dropin", shell=layer == "shell") as (
            student, password, _, _, dropins), \
            running_sshd(tmp_path / "sshd", dropins) as (port, log):
        attempt = ssh_login(port, student, password)
    assert attempt.returncode != 0, attempt
    assert student not in attempt.stdout
    if layer == "shell":
        assert "This account is currently not available" in attempt.stdout + attempt.stderr
    else:
        assert "DenyGroups" in log.read_text()


def test_remove_takes_the_dropin_back(tmp_path):
    """Does `course hub remove`'s step take back the drop-in, and the status say whether
    SSH refuses the students?"""
    dropins = tmp_path / "sshd_config.d"
    dropins.mkdir()
    path = hub_logins.write_ssh_dropin("course-students-x", tmp_path, config_dir=dropins)
    assert path.read_text().splitlines()[-1] == "DenyGroups course-students-x"
    assert "SSH refuses the group course-students-x" in hub_logins.describe(
        "course-students-x", path)
    hub_logins.remove_ssh_dropin(path, report=lambda _message: None)
    assert not path.exists()
    assert "no SSH server's settings" in hub_logins.describe("course-students-x", path)
    assert hub_logins.write_ssh_dropin("g", tmp_path, config_dir=tmp_path / "none") is None


def test_a_students_hub_terminal_still_gets_bash(tmp_path):
    """With the login shell that refuses logins, does the spawner still give a student's
    JupyterLab (whose terminals start $SHELL) bash, and leave the teacher's shell alone?"""
    from types import SimpleNamespace

    from jupyterhub.objects import Hub

    from course_lib.teacher.hub_spawner import CourseSpawner

    with course_accounts("s", "t") as made:
        student, teacher = made["s"][0], made["t"][0]
        group = hub_logins.students_group(tmp_path)
        try:
            hub_logins.enroll([student], group)
            settings = tmp_path / "hub.json"
            settings.write_text(json.dumps({
                "teacher": teacher, "student_python": "/s/bin/python",
                "teacher_python": "/t/bin/python", "student_jupyter_config": "/s",
                "teacher_jupyter_config": "/t"}))
            shells = {}
            for name in (student, teacher):
                user = SimpleNamespace(name=name, url=f"/user/{name}/", escaped_name=name,
                                       id=1, orm_user=None)
                spawner = CourseSpawner(user=user, hub=Hub(), settings_file=str(settings))
                shells[name] = spawner.get_env()["SHELL"]
            assert pwd.getpwnam(student).pw_shell == hub_logins.NO_LOGIN
        finally:
            hub_logins.remove_group(group)
    assert shells == {student: "/bin/bash", teacher: "/bin/bash"}


def test_status_and_remove_cover_the_logins_outside_the_hub(tmp_path, monkeypatch):
    """Does `course hub status` say that SSH refuses the students and whether their disk is
    capped, and does `course hub remove` take back the drop-in, the group and the
    accounts?"""
    from dataclasses import asdict

    monkeypatch.setattr(hub, "EXCHANGE", tmp_path / "exchange")
    dropins = tmp_path / "sshd_config.d"
    dropins.mkdir()
    state = tmp_path / "state"
    state.mkdir()
    group = hub_logins.students_group(state)
    with course_accounts("s") as made:
        student = made["s"][0]
        hub_logins.enroll([student], group)
        dropin = hub_logins.write_ssh_dropin(group, state, config_dir=dropins)
        settings = hub.HubSettings(
            course_dir=str(tmp_path / "gone"), teacher="nobody", students=[student],
            created_accounts=[student], ip="127.0.0.1", port=8000, student_python="",
            teacher_python="", student_jupyter_config="", teacher_jupyter_config="",
            limits={"memory_mb": 2560, "cpu_cores": 1.0}, students_group=group,
            ssh_dropin=str(dropin), disk_mb=300)
        (state / "hub.json").write_text(json.dumps(asdict(settings)))
        said = hub.status(state)
        assert f"SSH refuses the group {group} ({dropin})" in said
        assert "disk per student: 300 MB" in said
        assert f"  {student}: " in said.split("disk per student")[1]
        hub.remove(state, report=lambda _line: None)
        assert not dropin.exists()
        assert subprocess.run(["getent", "group", group]).returncode != 0
        try:
            pwd.getpwnam(student)
            raise AssertionError(f"{student} was not removed")
        except KeyError:
            pass
