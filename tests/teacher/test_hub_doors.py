"""Are the classroom server's own files private from the moment they exist, are ids of
accounts the course did not make refused, are passwords typeable, and does the hub say
whether a student's limits are in force? Fast checks of `course hub`'s parts (root only
where accounts or control groups are involved); tests/teacher/test_classroom.py runs the
whole server."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from helpers.accounts import require_root

from course_lib.teacher import hub, hub_limits
from course_lib.teacher.course import CourseError

ROOT = Path(__file__).resolve().parents[2]


def test_private_files_are_never_readable_by_others(tmp_path, monkeypatch):
    """Is a file written by the hub 0600 even under a mask of 0 and with chmod doing
    nothing (no moment when it is readable), and is an existing loose one tightened?"""
    path = tmp_path / "passwords.csv"
    old = os.umask(0)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(os, "chmod", lambda *a, **k: None)
            patch.setattr(os, "fchmod", lambda *a, **k: None)
            hub.write_private(path, "ada,kq7m-4tzp-c9xe\n")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o600
    loose = tmp_path / "hub.json"
    loose.write_text("{}")
    loose.chmod(0o644)
    hub.write_private(loose, '{"a": 1}')
    assert loose.stat().st_mode & 0o777 == 0o600 and loose.read_text() == '{"a": 1}'


def test_a_private_file_is_never_written_through_a_link(tmp_path):
    """Does writing the passwords replace a link put in their place, not its target?"""
    target = tmp_path / "elsewhere"
    target.write_text("")
    (tmp_path / "passwords.csv").symlink_to(target)
    hub.write_private(tmp_path / "passwords.csv", "secret")
    assert target.read_text() == ""
    assert not (tmp_path / "passwords.csv").is_symlink()
    assert (tmp_path / "passwords.csv").read_text() == "secret"


def test_passwords_have_no_look_alike_characters():
    """Are passwords free of I, l, 1, 0, O and o, and different each time?"""
    passwords = {hub.new_password() for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        assert len(password) == 14 and password.count("-") == 2
        assert not set(password) & set("Il10Oo"), password


def test_an_existing_system_account_in_the_class_list_is_refused(tmp_path):
    """Is a class list naming `bin` refused before anything is made, with what to do?"""
    require_root()
    class_list = tmp_path / "class.csv"
    class_list.write_text("id,name\njan.peeters,Jan Peeters\nbin,Not A Student\n")
    with pytest.raises(CourseError, match="'bin' is an account that already exists"):
        hub.check_accounts(class_list, ["jan.peeters", "bin"], "teacher", created=set())
    state = tmp_path / "state"
    with pytest.raises(CourseError, match="'bin' is an account that already exists"):
        hub.setup(ROOT, class_list, state=state, teacher="mnist-nobody-teacher")
    assert not state.exists()
    # An account the classroom made itself is its own.
    hub.check_accounts(class_list, ["bin"], "root-like-teacher", created={"bin"})
    with pytest.raises(CourseError, match="one of the system's own"):
        hub.check_accounts(class_list, [], "daemon", created=set())


def test_the_hub_settings_say_https_and_keep_the_address():
    """Does the address say https when a certificate is set?"""
    settings = hub.HubSettings(
        course_dir="/c", teacher="t", students=[], created_accounts=[], ip="127.0.0.1",
        port=8443, student_python="", teacher_python="", student_jupyter_config="",
        teacher_jupyter_config="", limits={}, certificate="/s/tls/certificate.pem")
    assert settings.url == "https://127.0.0.1:8443/"


def test_the_address_is_the_name_the_certificate_holds(tmp_path):
    """With a certificate for a public name (Let's Encrypt's, or the school's), is the
    address printed for students that name, which browsers accept, not this computer's?"""
    from helpers.tls import make_test_certificates

    for_name = make_test_certificates(tmp_path / "name", host="hub.school.test").certificate
    for_address = make_test_certificates(tmp_path / "address", host="127.0.0.1").certificate

    def url(ip: str, certificate: Path) -> str:
        return hub.HubSettings(
            course_dir="/c", teacher="t", students=[], created_accounts=[], ip=ip, port=443,
            student_python="", teacher_python="", student_jupyter_config="",
            teacher_jupyter_config="", certificate=str(certificate)).url

    assert url("0.0.0.0", for_name) == "https://hub.school.test:443/"
    assert url("127.0.0.1", for_name) == "https://hub.school.test:443/"
    assert url("127.0.0.1", for_address) == "https://127.0.0.1:443/"


def test_status_says_whether_a_process_is_within_the_limits():
    """Is a process outside any control group reported without limits, and one inside a
    group with the limits reported within them?"""
    from course_lib.autograder.limits import ControlGroup, Limits

    require_root()
    wanted = hub_limits.StudentLimits(memory_mb=256, cpu_cores=0.5, processes=512)
    free = subprocess.Popen(["sleep", "30"])
    try:
        assert not hub_limits.limits_of(free.pid).holds(wanted)
    finally:
        free.kill()
        free.wait()
    group = ControlGroup.create(Limits(memory_mb=256), cpu_cores=0.5)
    if group is None:
        pytest.skip("this kernel gives no control group to make (the status then says "
                    "NOT in force)")
    try:
        limited = subprocess.Popen(["sleep", "30"], preexec_fn=group.enter)
        try:
            found = hub_limits.limits_of(limited.pid)
        finally:
            limited.kill()
            limited.wait()
    finally:
        group.remove()
    assert found.holds(wanted), found
    assert (found.memory_mb, found.cpu_cores) == (256, 0.5)


def test_remove_takes_only_what_this_classroom_made(tmp_path, monkeypatch):
    """Does `course hub remove` remove this classroom's exchange folder even when the
    teacher's home (where the course id lives) is gone, and leave another class's folder
    alone, also when no settings were saved?"""
    import json
    from dataclasses import asdict

    from helpers.accounts import accounts

    from course_lib.teacher.hub_exchange import prepare_exchange

    with accounts("teacher") as names:
        exchange = tmp_path / "exchange"
        monkeypatch.setattr(hub, "EXCHANGE", exchange)
        ours = prepare_exchange(exchange, "class-4a", names["teacher"])
        other = exchange / "mnist-cnn"  # another classroom's, made by root
        other.mkdir()
        profile = tmp_path / "course-hub-teacher.sh"
        profile.write_text("")
        state = tmp_path / "state"
        state.mkdir()
        settings = hub.HubSettings(
            course_dir=str(tmp_path / "home-already-gone"), teacher=names["teacher"],
            students=[], created_accounts=[], ip="127.0.0.1", port=8000, student_python="",
            teacher_python="", student_jupyter_config="", teacher_jupyter_config="",
            limits={}, exchange_course="class-4a", profile_script=str(profile))
        (state / "hub.json").write_text(json.dumps(asdict(settings)))
        hub.remove(state, report=lambda line: None)
        assert not ours.exists() and not profile.exists() and not state.exists()
        assert other.is_dir()
        state.mkdir()
        hub.remove(state, report=lambda line: None)
        assert other.is_dir() and not state.exists()


def zombie_of(name: str) -> int:
    """A process of the account ``name`` that has ended but that no one has reaped: what a
    killed student server becomes on a machine whose first process reaps nothing (a
    container without an init). Its parent is this test, which reaps it when done."""
    import pwd

    account = pwd.getpwnam(name)
    pid = os.fork()
    if pid == 0:  # the child: become the account and end at once
        try:
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
        finally:
            os._exit(0)
    deadline = time.monotonic() + 10
    while process_state(pid) != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    return pid


def process_state(pid: int) -> str:
    """The one-letter state of a process (Z: ended, not reaped), from /proc."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_removing_a_classroom_does_not_wait_for_ended_processes(tmp_path, monkeypatch):
    """A student's killed server that nobody reaps stays in /proc, owned by the student,
    but runs nothing: does `course hub remove` delete the account at once, instead of
    waiting for it to go?"""
    import json
    import pwd
    from dataclasses import asdict

    from helpers.accounts import accounts, uid

    with accounts("student") as names:
        student = names["student"]
        monkeypatch.setattr(hub, "EXCHANGE", tmp_path / "exchange")
        state = tmp_path / "state"
        state.mkdir()
        settings = hub.HubSettings(
            course_dir=str(tmp_path / "course"), teacher="", students=[student],
            created_accounts=[student], ip="127.0.0.1", port=8000, student_python="",
            teacher_python="", student_jupyter_config="", teacher_jupyter_config="",
            limits={})
        (state / "hub.json").write_text(json.dumps(asdict(settings)))
        zombie = zombie_of(student)
        try:
            assert process_state(zombie) == "Z"
            assert os.stat(f"/proc/{zombie}").st_uid == uid(student)
            started = time.monotonic()
            hub.remove(state, report=lambda line: None)
            took = time.monotonic() - started
        finally:
            os.waitpid(zombie, 0)
        with pytest.raises(KeyError):
            pwd.getpwnam(student)
        assert took < 10, f"removing the classroom took {took:.0f} s"
