"""Does JupyterHub, reading the jupyterhub_config.py `course hub` writes, get the classroom
the teacher asked for (PAM logins for the class list only, the course's spawner, HTTPS,
servers that outlive a restart, the admin's own files last), and does the spawner prepare a
student's server as it should (their environment, bash, the limits, a refusal where the
limits cannot hold)?

Fast stand-ins in the style of JupyterHub's own tests (its MockPAMAuthenticator and
MockSpawner): the settings are loaded as JupyterHub loads them, into its own classes, but no
hub, proxy or user's server runs; PAM answers from a stand-in and a user is a plain object.
tests/teacher/test_classroom.py runs the real classroom (slow); the limits' control groups
themselves are tested in test_hub_limits.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import ssl
import subprocess
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

import pamela
import pytest
from helpers.tls import make_test_certificates
from jupyterhub.app import JupyterHub
from jupyterhub.auth import PAMAuthenticator
from jupyterhub.objects import Hub
from jupyterhub.proxy import ConfigurableHTTPProxy
from jupyterhub.spawner import LocalProcessSpawner
from traitlets.config.loader import PyFileConfigLoader

from course_lib.teacher import hub, hub_cgroup, hub_config, hub_limits, hub_spawner
from course_lib.teacher.hub_accounts import write_private
from course_lib.teacher.hub_auth import CourseAuthenticator
from course_lib.teacher.hub_spawner import CourseSpawner

MB = 2**20
TEACHER, STUDENTS = "mnist-teacher", ["ada", "bob"]
PASSWORD = "kq7m-4tzp-c9xe"  # the one the stand-in PAM accepts, for every account


def settings_for(state: Path, **changes) -> hub_config.HubSettings:
    """The settings `course hub` keeps for a classroom in ``state``, with ``changes``."""
    values = dict(
        course_dir="/home/mnist-teacher/course", teacher=TEACHER, students=list(STUDENTS),
        created_accounts=[TEACHER, *STUDENTS], ip="127.0.0.1", port=8000,
        student_python=str(state / "student-env/bin/python"),
        teacher_python=str(state / "teacher-env/bin/python"),
        student_jupyter_config=str(state / "jupyter-student"),
        teacher_jupyter_config=str(state / "jupyter-teacher"),
        data_path="/srv/mnist/mnist.npz", leaderboard_port=45678)
    values.update(changes)
    return hub_config.HubSettings(**values)


def write_classroom(state: Path, settings: hub_config.HubSettings) -> Path:
    """hub.json and jupyterhub_config.py as `course hub` writes them; the config file."""
    state.mkdir(parents=True, exist_ok=True)
    (state / hub_config.ADMIN_CONFIG_DIR).mkdir(exist_ok=True)
    write_private(hub_config.settings_path(state), json.dumps(asdict(settings)))
    config = state / hub_config.CONFIG_FILE
    write_private(config, hub_config.jupyterhub_config(settings, state, state / "proxy/chp")
                  + hub_config.admin_config(state))
    return config


def load(config_file: Path):
    """The settings as JupyterHub loads ``config_file`` (``jupyterhub -f``)."""
    return PyFileConfigLoader(config_file.name, str(config_file.parent)).load_config()


def hub_reading(config_file: Path) -> JupyterHub:
    """JupyterHub's application with those settings (nothing started)."""
    return JupyterHub(config=load(config_file))


@pytest.fixture
def classroom(tmp_path):
    """A classroom's state folder with its settings; the generated config file."""
    state = tmp_path / "state"
    return write_classroom(state, settings_for(state))


# ---- the hub's settings -------------------------------------------------------------------

def test_a_restart_of_the_hub_leaves_the_users_servers_running(classroom):
    """Does the hub keep the users' servers when it stops (cleanup_servers off), with its
    database and its proxy's pid file in the state folder to find them again?"""
    app = hub_reading(classroom)
    state = classroom.parent
    assert app.cleanup_servers is False
    assert app.db_url == f"sqlite:///{state / 'jupyterhub.sqlite'}"
    assert app.pid_file == str(state / "jupyterhub.pid")
    proxy = ConfigurableHTTPProxy(config=load(classroom))
    assert proxy.pid_file == str(state / "jupyterhub-proxy.pid")
    assert (app.ip, app.port, app.hub_ip) == ("127.0.0.1", 8000, "127.0.0.1")


@pytest.fixture
def stand_in_pam(monkeypatch):
    """PAM as JupyterHub's MockPAMAuthenticator has it: every account exists and its
    password is PASSWORD; no session is opened."""
    def authenticate(username, password, service="login", encoding="utf8", **_):
        if password != PASSWORD:
            raise pamela.PAMError("Authentication failure")

    monkeypatch.setattr(pamela, "authenticate", authenticate)
    monkeypatch.setattr(pamela, "check_account", lambda *args, **kwargs: None)
    monkeypatch.setattr(pamela, "open_session", lambda *args, **kwargs: None)
    monkeypatch.setattr(pamela, "close_session", lambda *args, **kwargs: None)


def log_in(authenticator, name: str, password: str = PASSWORD) -> dict | None:
    """What the hub's login page gets for ``name``: the user (with admin) or None."""
    return asyncio.run(authenticator.get_authenticated_user(
        None, {"username": name, "password": password}))


def test_logins_are_pam_passwords_for_the_teacher_and_the_class_list_only(classroom,
                                                                          stand_in_pam):
    """Does the hub log in with the accounts' passwords (PAM), the teacher as its only
    admin and the students of the class list as users, refuse everyone else and a wrong
    password, and follow the class list as `course hub` saves it, without a restart?"""
    app = hub_reading(classroom)
    assert app.authenticator_class is CourseAuthenticator
    assert issubclass(CourseAuthenticator, PAMAuthenticator)
    authenticator = app.authenticator_class(config=load(classroom))
    assert authenticator.admin_users == {TEACHER}
    assert authenticator.allow_all is False
    candidates = [TEACHER, *STUDENTS, "eve", "root", "nobody"]
    logged_in = {name: log_in(authenticator, name) for name in candidates}
    assert {name for name, user in logged_in.items() if user} == {TEACHER, *STUDENTS}
    assert [name for name in candidates if logged_in[name] and logged_in[name]["admin"]] \
        == [TEACHER]
    assert log_in(authenticator, "ada", "a-wrong-one") is None
    # `course hub --class-list` again: cem joins, bob leaves; the running hub follows.
    state = classroom.parent
    write_private(hub_config.settings_path(state),
                  json.dumps(asdict(settings_for(state, students=["ada", "cem"]))))
    assert log_in(authenticator, "cem") is not None
    assert log_in(authenticator, "bob") is None


def test_each_users_server_is_the_course_spawner_with_the_student_limits(classroom):
    """Is the spawner JupyterHub makes the course's, reading hub.json, opening JupyterLab,
    with the default per-student limits and limits required?"""
    app = hub_reading(classroom)
    assert app.spawner_class is CourseSpawner
    assert issubclass(CourseSpawner, LocalProcessSpawner)
    spawner = app.spawner_class(config=load(classroom), user=stand_in_user("ada"))
    assert spawner.settings_file == str(hub_config.settings_path(classroom.parent))
    assert spawner.default_url == "/lab"
    assert (spawner.start_timeout, spawner.http_timeout) == (180, 180)
    assert (spawner.mem_limit, spawner.cpu_limit, spawner.process_limit) == (
        2560 * MB, 1.0, 512)
    assert spawner.student_limits() == hub_limits.STUDENT_LIMITS
    assert spawner.limits_required is True


def test_https_serves_the_copies_of_the_schools_certificate(tmp_path):
    """With the school's certificate, does the hub serve HTTPS with root's private copies
    (a pair that works), and the proxy open plain HTTP only to redirect; without one, no
    HTTPS and no redirect?"""
    school = make_test_certificates(tmp_path / "school", host="hub.school.test")
    state = tmp_path / "state"
    state.mkdir()
    certificate, key = hub._install_certificate(state, school.certificate, school.key)
    config = write_classroom(state, settings_for(state, certificate=certificate, key=key,
                                                 port=443, redirect_port=8080))
    app = hub_reading(config)
    assert (app.ssl_cert, app.ssl_key) == (certificate, key)
    assert Path(app.ssl_key).parent == state / "tls"
    assert os.stat(app.ssl_key).st_mode & 0o777 == 0o600
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(app.ssl_cert,
                                                                        app.ssl_key)
    assert ConfigurableHTTPProxy(config=load(config)).command == [
        str(state / "proxy/chp"), "--redirect-port", "8080"]
    plain = write_classroom(tmp_path / "plain", settings_for(tmp_path / "plain"))
    assert (hub_reading(plain).ssl_cert, hub_reading(plain).ssl_key) == ("", "")
    assert ConfigurableHTTPProxy(config=load(plain)).command == [
        str(tmp_path / "plain" / "proxy/chp")]


def test_the_admins_files_are_read_last_and_override_what_course_hub_wrote(classroom):
    """Do the admin's jupyterhub_config.d/*.py files, read after the generated settings and
    in name order, win over them (also for the hub's own settings, not only the limits),
    and are other files there left unread?"""
    admin = classroom.parent / hub_config.ADMIN_CONFIG_DIR
    (admin / "10-early.py").write_text("c.JupyterHub.port = 1111\n")
    (admin / "50-site.py").write_text(
        "c.JupyterHub.port = 9443\nc.Spawner.default_url = '/tree'\n"
        "c.Authenticator.admin_users = {'mnist-teacher', 'helper'}\n")
    (admin / "README.txt").write_text("c.JupyterHub.port = 7\nnot python at all (\n")
    app = hub_reading(classroom)
    assert app.port == 9443
    assert app.ip == "127.0.0.1"  # what the admin did not set stays as written
    assert CourseSpawner(config=load(classroom)).default_url == "/tree"
    assert CourseAuthenticator(config=load(classroom)).admin_users == {TEACHER, "helper"}


# ---- a user's server, prepared by the spawner ---------------------------------------------

def stand_in_user(name: str) -> SimpleNamespace:
    """What the spawner reads of JupyterHub's user (as its MockSpawner's tests use)."""
    return SimpleNamespace(name=name, url=f"/user/{name}/", escaped_name=name, id=1,
                           orm_user=None)


def spawner_for(config_file: Path, account: str) -> CourseSpawner:
    """The spawner JupyterHub would make for ``account``, logging to the test's log."""
    spawner = CourseSpawner(config=load(config_file), user=stand_in_user(account),
                            hub=Hub())
    spawner.log = logging.getLogger("test-hub-config")
    return spawner


def test_a_students_server_runs_in_the_students_environment_with_bash(tmp_path):
    """Does a student's server run with the students' environment and Jupyter settings,
    the prepared MNIST and bash for terminals (their login shell refuses logins), and
    the teacher's with the teacher's, its login shell left alone?"""
    state = tmp_path / "state"
    # Existing accounts whose login shell is nologin, as a student's is on the server.
    config = write_classroom(state, settings_for(state, teacher="daemon",
                                                 students=["nobody"]))
    student = spawner_for(config, "nobody").get_env()
    teacher = spawner_for(config, "daemon").get_env()
    assert student["PATH"].split(os.pathsep)[0] == str(state / "student-env/bin")
    assert student["JUPYTER_CONFIG_PATH"] == str(state / "jupyter-student")
    assert student["SHELL"] == "/bin/bash"
    assert student["COURSE_MNIST_PATH"] == "/srv/mnist/mnist.npz"
    assert teacher["PATH"].split(os.pathsep)[0] == str(state / "teacher-env/bin")
    assert teacher["JUPYTER_CONFIG_PATH"] == str(state / "jupyter-teacher")
    assert teacher["SHELL"] == "/usr/sbin/nologin"


class StandInProcess(subprocess.Popen):
    """The process JupyterHub's spawner keeps, with a number and nothing running."""

    def __init__(self, pid: int):
        self.pid, self._child_created = pid, False  # nothing to wait for when it goes


@pytest.fixture
def stand_in_start(monkeypatch):
    """JupyterHub's process start and stop recorded instead of run: what was started (the
    command, the folder), stopped, and the limits the started process is found in."""
    seen = SimpleNamespace(started=[], stopped=0, in_force=hub_limits.InForce(2560, 1.0, 512),
                           groups=[])

    async def start(spawner):
        seen.started.append((list(spawner.cmd), spawner.notebook_dir))
        spawner.proc = StandInProcess(4242)
        return ("127.0.0.1", 4243)

    async def stop(spawner, now=False):
        seen.stopped += 1

    class Group:
        """A control group as hub_cgroup makes it, without the kernel."""

        def __init__(self, limits):
            self.limits, self.removed = limits, False

        def enter(self):
            pass

        def remove(self):
            self.removed = True

    def create(account, limits):
        seen.groups.append(Group(limits))
        return seen.groups[-1]

    monkeypatch.setattr(LocalProcessSpawner, "start", start)
    monkeypatch.setattr(LocalProcessSpawner, "stop", stop)
    monkeypatch.setattr(hub_cgroup, "route", lambda root=None: "cgroup")
    monkeypatch.setattr(hub_cgroup, "create", create)
    monkeypatch.setattr(hub_cgroup, "existing", lambda account: None)
    monkeypatch.setattr(hub_spawner, "limits_of", lambda pid: seen.in_force)
    return seen


def test_a_students_server_starts_within_its_limits_and_the_teachers_without(
        classroom, stand_in_start):
    """Is a student's server started from the students' environment in a control group
    with the configured limits, and the teacher's from the teacher's, in the course, with
    no group at all?"""
    state = classroom.parent
    assert asyncio.run(spawner_for(classroom, "ada").start()) == ("127.0.0.1", 4243)
    assert stand_in_start.started == [
        ([str(state / "student-env/bin/jupyterhub-singleuser")], "")]
    [group] = stand_in_start.groups
    assert group.limits == hub_cgroup.Limits(memory_bytes=2560 * MB, cpu_cores=1.0,
                                             processes=512)
    asyncio.run(spawner_for(classroom, "mnist-teacher").start())
    assert stand_in_start.started[1] == (
        [str(state / "teacher-env/bin/jupyterhub-singleuser")], "/home/mnist-teacher/course")
    assert len(stand_in_start.groups) == 1 and stand_in_start.stopped == 0


def test_a_students_server_is_not_started_where_limits_cannot_hold(classroom,
                                                                  stand_in_start,
                                                                  monkeypatch, caplog):
    """Where no control group can be made, is a student's server never started, with the
    reason, unless an admin made the limits optional (then it starts and the log says it
    runs without them)?"""
    def no_group(account, limits):
        raise hub_cgroup.NoLimits("The hub's control group lacks the memory controller.")

    monkeypatch.setattr(hub_cgroup, "create", no_group)
    with pytest.raises(hub_cgroup.NoLimits) as refused:
        asyncio.run(spawner_for(classroom, "ada").start())
    assert str(refused.value) == (
        "ada's server was not started: its limits (2,560 MB, 1 core(s), 512 processes) "
        "cannot be enforced here. The hub's control group lacks the memory controller.")
    assert stand_in_start.started == []
    (classroom.parent / hub_config.ADMIN_CONFIG_DIR / "50-optional.py").write_text(
        "c.CourseSpawner.limits_required = False\n")
    with caplog.at_level(logging.WARNING, logger="test-hub-config"):
        asyncio.run(spawner_for(classroom, "ada").start())
    assert len(stand_in_start.started) == 1
    assert "ada's server runs WITHOUT the per-student limits" in caplog.text


def test_a_server_found_outside_its_limits_is_stopped(classroom, stand_in_start, caplog):
    """If the started server turns out not to run within its limits, is it stopped and
    refused, saying what it runs with, or, with limits optional, kept with a warning?"""
    stand_in_start.in_force = hub_limits.InForce(None, None, None)
    spawner = spawner_for(classroom, "ada")
    with pytest.raises(hub_cgroup.NoLimits, match="It runs with no memory limit, no CPU "
                                                  "limit, no process limit instead"):
        asyncio.run(spawner.start())
    assert stand_in_start.stopped == 1
    assert stand_in_start.groups[0].removed
    (classroom.parent / hub_config.ADMIN_CONFIG_DIR / "50-optional.py").write_text(
        "c.CourseSpawner.limits_required = False\n")
    with caplog.at_level(logging.WARNING, logger="test-hub-config"):
        asyncio.run(spawner_for(classroom, "ada").start())
    assert stand_in_start.stopped == 1
    assert "ada's server runs WITHOUT the per-student limits" in caplog.text
