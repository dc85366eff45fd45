"""``course hub``: the whole classroom on one Linux server, from well-kept parts.

Run as root on the server, in the course folder, with a class list. It sets up, and
leaves alone what is already right:

* a **system account** per student and for the teacher (homes closed to others), each
  new one with a password to hand out (kept for the teacher, readable by root only); an id
  that names an account the course did not make (``bin``, someone's own) is refused;
  students log in through the hub only (:mod:`course_lib.teacher.hub_logins`: no SSH, no
  login shell) and have a disk cap where the file system has user quotas on
  (:mod:`course_lib.teacher.hub_disk`);
* the **students' environment**: JupyterLab, nbgrader showing only the Assignments tab,
  and the students' package of ``course_lib`` (``course package``), never the course;
* the **classroom's course** in the teacher's home: ``source/``, the settings, the student
  version, the gradebook with the class list; the teacher's JupyterLab opens there, with
  Formgrader;
* nbgrader's **exchange** in its standard place, ``/usr/local/share/nbgrader/exchange``,
  where ``course release`` puts the assignment, students fetch and submit, ``course
  collect`` takes the submissions and ``course return`` the feedback; the course's folders
  there belong to the teacher (:mod:`course_lib.teacher.hub_exchange`);
* **JupyterHub** (``jupyterhub`` from PyPI, ``configurable-http-proxy`` from npm) with
  PAM logins for the class list as saved now (:mod:`course_lib.teacher.hub_auth`: the
  accounts' passwords, no identity server needed, students added later log in without a
  restart) and :class:`~course_lib.teacher.hub_spawner.CourseSpawner` (each user's server
  as their own account, students within the limits of ``c.CourseSpawner.mem_limit``,
  ``cpu_limit`` and ``process_limit``, :data:`STUDENT_LIMITS` unless an admin's
  ``jupyterhub_config.d/*.py`` in the state folder says otherwise); on HTTPS with the
  school's certificate (``--certificate``, ``--key``) or one from Let's Encrypt
  (``--letsencrypt``, :mod:`course_lib.teacher.hub_certificate`), plain HTTP only redirecting to it
  (``--redirect-port``).

Then it starts the hub (as a system service where systemd runs, which starts it at boot
and again after a crash: :mod:`course_lib.teacher.hub_service`) and prints its address; the
users' servers keep running through a restart of the hub. ``course hub status``, ``stop``
and ``remove`` do what they say. Everything it keeps lives in :data:`STATE_DIR`, private to
root from the moment each file is made (database, log, passwords); the students'
environment alone is readable by them.

This module is the hub's life (set up, start, status, stop, remove); its parts are
:mod:`~course_lib.teacher.hub_accounts` (the class list, the accounts and their passwords),
:mod:`~course_lib.teacher.hub_environments` (the students' and the teacher's Python
environments, the proxy) and :mod:`~course_lib.teacher.hub_config` (the settings in
``hub.json`` and the ``jupyterhub_config.py`` written from them).
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict
from pathlib import Path

from course_lib.teacher import hub_disk, hub_limits, hub_logins, hub_service
from course_lib.teacher.course import ASSIGNMENT, CourseError, require_course
from course_lib.teacher.hub_accounts import (
    Member,
    check_accounts,
    ensure_account,
    keep_passwords,
    new_password,
    read_class_list,
    write_private,
)
from course_lib.teacher.hub_config import (
    ADMIN_CONFIG_DIR,
    CONFIG_FILE,
    DEFAULT_DISK_MB,
    DEFAULT_IP,
    DEFAULT_PORT,
    DEFAULT_TEACHER,
    STATE_DIR,
    SYSTEM_PATH,
    HubSettings,
    admin_config,
    data_path,
    ensure_jupyter_config,
    jupyterhub_config,
    load_settings,
    settings_path,
)
from course_lib.teacher.hub_environments import (
    as_user,
    ensure_proxy,
    ensure_student_environment,
    ensure_teacher_environment,
)
from course_lib.teacher.hub_exchange import prepare_exchange
from course_lib.teacher.hub_limits import STUDENT_LIMITS
from course_lib.teacher.leaderboard import free_loopback_port
from course_lib.teacher.student_ids import check_student_id

PROFILE_DIR = Path("/etc/profile.d")


def _nbgrader_exchange() -> Path:
    from nbgrader.exchange.default.exchange import Exchange

    return Path(Exchange.root.default_value)


EXCHANGE = _nbgrader_exchange()  # nbgrader's own default Exchange.root: no setting needed


# ---- setting up ----------------------------------------------------------------------------

def setup(course_dir: Path, class_list: Path, *, state: Path = STATE_DIR,
          teacher: str | None = None, ip: str | None = None, port: int | None = None,
          certificate: Path | None = None, key: Path | None = None,
          redirect_port: int | None = None, disk_mb: int | None = None,
          letsencrypt=None, report=print) -> HubSettings:
    """Set up (or bring up to date) the classroom server; start nothing yet.

    What is not given (the teacher, the address, the certificate) stays as the previous
    run saved it, else takes the default. Students added to the class list may log in as
    soon as this returns, also while the hub runs. ``letsencrypt`` (a
    :class:`~course_lib.teacher.hub_certificate.AcmeRequest`) takes the certificate from
    Let's Encrypt instead of the school.
    """
    _require_root_on_linux()
    course_dir = require_course(course_dir).resolve()
    members = read_class_list(class_list)
    previous = load_settings(state)
    teacher = teacher or (previous.teacher if previous else DEFAULT_TEACHER)
    try:
        check_student_id(teacher, account=True)
    except ValueError as error:
        raise CourseError(f"The teacher's account (--teacher): {error}") from None
    if teacher in {m.id for m in members}:
        raise CourseError(f"The teacher's account {teacher!r} is also a student's in the "
                          "class list: choose another with --teacher.")
    created = set(previous.created_accounts if previous else [])
    check_accounts(class_list, [m.id for m in members], teacher, created)
    if (certificate is None) != (key is None):
        raise CourseError("HTTPS needs both the certificate (--certificate) and its private "
                          "key (--key).")
    if certificate is not None:
        _check_certificate(certificate, key)
    if disk_mb is not None and disk_mb < 0:
        raise CourseError(f"--disk-mb {disk_mb}: give each student's disk cap in MB (e.g. "
                          "--disk-mb 1024), or 0 for no cap.")
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o711)  # the students' environment inside is readable, the rest root's
    if letsencrypt is not None or certificate is not None:  # before the long installs
        from course_lib.teacher.hub_certificate import choose_certificate

        certificate, key = choose_certificate(state, letsencrypt, certificate, key, report)
    passwords = {}
    for member in [Member(teacher, "Teacher"), *members]:
        password = ensure_account(member)
        if password:
            created.add(member.id)
            passwords[member.id] = password
    keep_passwords(state, passwords)
    group = (previous.students_group if previous else "") or hub_logins.students_group(state)
    hub_logins.enroll([m.id for m in members], group)
    dropin = hub_logins.write_ssh_dropin(group, state, report=report)
    if dropin is not None:
        hub_logins.reload_ssh_server(report)
    student_python = ensure_student_environment(state, report)
    teacher_python = ensure_teacher_environment(state, report)
    classroom = _ensure_classroom_course(course_dir, teacher, members, teacher_python,
                                         report)
    course_id = _read_course_id(classroom)
    if not course_id:
        raise CourseError(f"The classroom's course {classroom} names no course id "
                          "(c.CourseDirectory.course_id in its nbgrader_config.py): "
                          "nbgrader's exchange needs one. Set it and run `course hub` again.")
    prepare_exchange(EXCHANGE, course_id, teacher)
    disk_mb = disk_mb if disk_mb is not None else (
        previous.disk_mb if previous else DEFAULT_DISK_MB)
    hub_disk.apply_caps([m.id for m in members], disk_mb, [EXCHANGE, Path("/tmp")], report)
    proxy = ensure_proxy(state, report)
    tls = _install_certificate(state, certificate, key) if certificate is not None else (
        (previous.certificate, previous.key) if previous else ("", ""))
    settings = HubSettings(
        course_dir=str(classroom), teacher=teacher, students=[m.id for m in members],
        created_accounts=sorted(created),
        ip=ip or (previous.ip if previous else DEFAULT_IP),
        port=port or (previous.port if previous else 443 if certificate else DEFAULT_PORT),
        student_python=str(student_python), teacher_python=str(teacher_python),
        student_jupyter_config=str(ensure_jupyter_config(state / "jupyter-student", None)),
        teacher_jupyter_config=str(ensure_jupyter_config(state / "jupyter-teacher",
                                                         classroom)),
        data_path=data_path(), exchange_course=course_id,
        certificate=tls[0], key=tls[1],
        redirect_port=(redirect_port if redirect_port is not None
                       else previous.redirect_port if previous else 0),
        profile_script=str(_write_profile_script(teacher, teacher_python.parent, state)),
        students_group=group, ssh_dropin=str(dropin or ""), disk_mb=disk_mb,
        # Kept from run to run: a running hub's config stays the same when nothing changed.
        leaderboard_port=(previous.leaderboard_port if previous and previous.leaderboard_port
                          else free_loopback_port()))
    if settings.redirect_port and not settings.certificate:
        raise CourseError("--redirect-port sends plain HTTP on to HTTPS, which needs the "
                          "certificate: add --certificate CERT --key KEY.")
    write_private(settings_path(state), json.dumps(asdict(settings), indent=1))
    (state / ADMIN_CONFIG_DIR).mkdir(mode=0o700, exist_ok=True)
    write_private(state / CONFIG_FILE,
                  jupyterhub_config(settings, state, proxy) + admin_config(state))
    for member, password in passwords.items():
        report(f"account {member}: password {password}")
    return settings


def _require_root_on_linux() -> None:
    if not sys.platform.startswith("linux"):
        raise CourseError("The classroom server needs Linux.")
    if os.geteuid() != 0:
        raise CourseError("`course hub` makes system accounts and starts services: run it "
                          "as root (sudo .venv/bin/course hub ...).")



def _check_certificate(certificate: Path, key: Path) -> None:
    """Refuse a certificate and key that cannot serve HTTPS together, saying why."""
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certificate, key)
    except (OSError, ssl.SSLError) as error:
        raise CourseError(f"The certificate {certificate} and key {key} cannot serve HTTPS "
                          f"({error}): give the school's certificate (PEM, with its chain) "
                          "and the private key that belongs to it.") from None


def _install_certificate(state: Path, certificate: Path, key: Path) -> tuple[str, str]:
    """Copies of the certificate and key that only root reads, for the hub's proxy."""
    folder = state / "tls"
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)
    copies = folder / "certificate.pem", folder / "key.pem"
    for source, copy in zip((certificate, key), copies, strict=True):
        write_private(copy, Path(source).read_text())
    return str(copies[0]), str(copies[1])


def _write_profile_script(teacher: str, tools: Path, state: Path) -> Path:
    """The teacher's terminal in JupyterLab is a login shell, whose /etc/profile resets
    PATH: this puts ``course`` and ``nbgrader`` back on it, for the teacher alone."""
    path = PROFILE_DIR / f"course-hub-{teacher}.sh"
    path.write_text(
        f"# Written by `course hub` for the classroom in {state}; `course hub remove`\n"
        f"# removes it. The teacher's tools (course, nbgrader) on their login shells' PATH.\n"
        f'if [ "$(id -un)" = "{teacher}" ]; then\n'
        f'    PATH="{tools}:$PATH"\n    export PATH\nfi\n')
    path.chmod(0o644)
    return path


def _ensure_classroom_course(course_dir: Path, teacher: str, members: list[Member],
                             python: Path, report) -> Path:
    """The course the classroom uses, in the teacher's home and owned by the teacher, with
    the class list in its gradebook. Made once; kept as the teacher changes it."""
    from course_lib.teacher.demo import copy_course

    home = Path(pwd.getpwnam(teacher).pw_dir)
    classroom = home / course_dir.name
    if not (classroom / "nbgrader_config.py").is_file():
        copy_course(course_dir, classroom)
        _chown_tree(classroom, teacher)
        report(f"The classroom's course is {classroom} (a copy of {course_dir}).")
        as_user(teacher, [str(python), "-m", "course_lib.teacher.cli", "--course",
                           str(classroom), "generate"])
    _import_students(classroom, teacher, members, python)
    return classroom


def _import_students(classroom: Path, teacher: str, members: list[Member],
                     python: Path) -> None:
    """Put the class list in the gradebook (new students added, names brought up to date)
    with one ``nbgrader db student import``: one nbgrader start for the whole class, not one
    per student (each takes seconds, and `course hub` does this at every run), through
    :mod:`course_lib.teacher.nbgrader_main`, which starts nbgrader faster."""
    owner = pwd.getpwnam(teacher).pw_uid
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", suffix=".csv",
                                         prefix=".class-list-", dir=classroom, delete=False)
    listing = Path(handle.name)
    try:
        with handle:
            # Given to the teacher while open: the name, in the teacher's folder, could be
            # swapped for a link to another file before a chown by name.
            os.fchown(handle.fileno(), owner, -1)
            rows = csv.writer(handle)
            rows.writerow(["id", "first_name", "last_name"])
            for member in members:
                first, _, last = member.name.partition(" ")
                rows.writerow([member.id, first, last])
        as_user(teacher, [str(python), "-m", "course_lib.teacher.nbgrader_main", "db",
                          "student", "import", str(listing)], cwd=classroom)
    finally:
        listing.unlink(missing_ok=True)


# ---- running -------------------------------------------------------------------------------

def start(state: Path = STATE_DIR, report=print, timeout: float = 120) -> HubSettings:
    """Start the hub in the background (if it is not running) and wait until it answers."""
    settings = load_settings(state)
    if settings is None:
        raise CourseError(f"No classroom server is set up in {state}: run `course hub "
                          "--class-list CLASS.csv` first.")
    service = hub_service.systemd_runs()
    if service:  # from now on at boot, and again after a crash
        hub_service.install(state)
    if running_pid(state) is None:
        # Private from the start: the log holds every user's server log, the database the
        # users' tokens. The hub's mask (077) keeps whatever else it writes private too.
        database = os.open(state / "jupyterhub.sqlite", os.O_WRONLY | os.O_CREAT
                           | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        os.fchmod(database, 0o600)
        os.close(database)
        log = os.open(state / "jupyterhub.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT
                      | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        os.fchmod(log, 0o600)
        try:
            if service:
                hub_service.start(state)
            else:
                subprocess.Popen(hub_service.hub_command(state), cwd=state, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True,
                                 umask=0o077)
        finally:
            os.close(log)
        deadline = time.monotonic() + timeout
        while not _answers(settings):
            if time.monotonic() > deadline:
                raise CourseError(f"JupyterHub did not answer within {timeout:.0f} s; its "
                                  f"log is {state / 'jupyterhub.log'}.")
            time.sleep(1)
    report(f"The classroom is at {settings.url} (students log in with their account).")
    return settings


def _answers(settings: HubSettings) -> bool:
    host = settings.ip if settings.ip not in ("", "0.0.0.0") else "127.0.0.1"
    scheme = "https" if settings.certificate else "http"
    # Only whether it answers: the certificate names the server, not this address.
    context = ssl._create_unverified_context() if settings.certificate else None
    try:
        urllib.request.urlopen(f"{scheme}://{host}:{settings.port}/hub/api", timeout=3,
                               context=context)
        return True
    except OSError:
        return False


def running_pid(state: Path = STATE_DIR) -> int | None:
    """The hub's process id if it runs, else None (also when a crashed hub left its pid
    file, whose number another process may have by now)."""
    try:
        pid = int((state / "jupyterhub.pid").read_text().strip())
        os.kill(pid, 0)
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if any(part.endswith(b"jupyterhub") for part in command[:2]) else None


def status(state: Path = STATE_DIR) -> str:
    """The classroom server in a few lines."""
    settings = load_settings(state)
    if settings is None:
        return f"No classroom server is set up here ({state} has no hub.json)."
    pid = running_pid(state)
    lines = [f"classroom server: {'running (process ' + str(pid) + ')' if pid else 'stopped'}",
             f"address: {settings.url}", f"course: {settings.course_dir} (teacher: "
             f"{settings.teacher})", f"students: {len(settings.students)} "
             f"({', '.join(settings.students[:8])}{' ...' if len(settings.students) > 8 else ''})",
             f"exchange: {EXCHANGE}"]
    lines += _limits_lines(state, settings.students if pid else [])
    lines.append(hub_service.describe(state))
    lines.append(hub_logins.describe(settings.students_group, settings.ssh_dropin))
    lines += hub_disk.status_lines(settings.students, settings.disk_mb)
    return "\n".join(lines)


def _limits_lines(state: Path, running: list[str]) -> list[str]:
    """The per-student limits as configured, then whether each server in ``running``
    runs within them."""
    from course_lib.teacher.hub_limits import configured_limits, describe

    try:
        configured = configured_limits(state / CONFIG_FILE)
    except ValueError as error:
        return [f"per student: unknown. {error}"]
    return [f"per student: {configured.describe()} (jupyterhub_config.py, then "
            f"{ADMIN_CONFIG_DIR}/*.py)"] + ["  " + describe(student, configured)
                                           for student in running]


def stop(state: Path = STATE_DIR, timeout: float = 60) -> bool:
    """Stop the hub (its system service too, which then no longer starts at boot); the
    users' servers keep running and the hub finds them again when it starts. True if it
    was running."""
    was_service = hub_service.stop(state)
    pid = running_pid(state)
    if pid is None:
        return _stop_leftover_proxy(state) or was_service
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while running_pid(state) is not None and time.monotonic() < deadline:
        time.sleep(0.5)
    if running_pid(state) is not None:
        os.killpg(os.getpgid(pid), signal.SIGKILL)
    (state / "jupyterhub.pid").unlink(missing_ok=True)
    _stop_leftover_proxy(state)
    return True


def _stop_leftover_proxy(state: Path) -> bool:
    """Stop the proxy a crashed hub left running (its pid file names it; a hub that stops
    stops its proxy itself): True if there was one."""
    pid_file = state / "jupyterhub-proxy.pid"
    try:
        pid = int(pid_file.read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        pid_file.unlink(missing_ok=True)
        return False
    if b"configurable-http-proxy" in command:  # not another process with the same number
        os.kill(pid, signal.SIGTERM)
    pid_file.unlink(missing_ok=True)
    return b"configurable-http-proxy" in command


def _remove_control_group(account: str) -> None:
    """Remove the student's control group: their server outlives the hub, so does it."""
    from course_lib.teacher.hub_cgroup import existing

    group = existing(account)
    if group is not None:
        group.remove()


def remove(state: Path = STATE_DIR, report=print) -> None:
    """Stop the hub, delete the accounts it made (homes included), the course's folder in
    the exchange if this classroom made it (the teacher's), its login script and
    everything in the state folder. Nothing else: without saved settings, only the state
    folder goes."""
    settings = load_settings(state)
    # Read before anything is deleted: the course id is in the teacher's home.
    exchange_folder = _exchange_folder(settings)
    stop(state)
    hub_service.remove(state)
    if settings is not None:
        # A later account with the same uid must not inherit a student's cap.
        try:
            hub_disk.apply_caps([s for s in settings.students if s in settings.created_accounts
                                 and hub_disk.account_exists(s)], 0, [EXCHANGE, Path("/tmp")],
                                report=lambda _message: None)
        except CourseError as error:
            report(f"Note: {error}")
        for account in settings.created_accounts:
            # The users' servers outlive the hub: userdel refuses an account still in use.
            for command in (["pkill", "-KILL", "-u", account], ["userdel", "--remove", account]):
                if command[0] == "userdel":
                    _wait_until_no_processes(account)
                subprocess.run([shutil.which(command[0], path=SYSTEM_PATH) or command[0],
                                *command[1:]], check=False, capture_output=True)
            _remove_control_group(account)
            report(f"removed account {account}")
        hub_logins.remove_group(settings.students_group)
        hub_logins.remove_ssh_dropin(settings.ssh_dropin, report)
        if settings.profile_script:
            Path(settings.profile_script).unlink(missing_ok=True)
    if exchange_folder is not None:
        shutil.rmtree(exchange_folder, ignore_errors=True)
        report(f"removed {exchange_folder}")
    shutil.rmtree(state, ignore_errors=True)


def _wait_until_no_processes(account: str, timeout: float = 30) -> None:
    """Wait until ``account`` runs nothing (killed processes take a moment to go)."""
    deadline = time.monotonic() + timeout
    while hub_limits.running_processes(account) and time.monotonic() < deadline:
        time.sleep(0.2)


def _exchange_folder(settings: HubSettings | None) -> Path | None:
    """The course's folder in the exchange, if this classroom's teacher owns it."""
    if settings is None:
        return None
    course_id = settings.exchange_course or _read_course_id(Path(settings.course_dir))
    folder = EXCHANGE / course_id
    try:
        owner = os.lstat(folder).st_uid
        teacher = pwd.getpwnam(settings.teacher).pw_uid
    except (OSError, KeyError):
        return None
    return folder if course_id and owner == teacher else None


def _read_course_id(course_dir: Path) -> str:
    """The course id of the course's settings ("" if they cannot be read)."""
    from course_lib.teacher.course import course_directory

    try:
        return course_directory(course_dir).course_id
    except (CourseError, OSError):
        return ""


# ---- helpers -------------------------------------------------------------------------------

def _chown_tree(folder: Path, user: str) -> None:
    """Give ``folder`` and everything in it to ``user`` and their group (a link itself, never
    what it points to)."""
    account = pwd.getpwnam(user)
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)


# The hub's life, and the names `course`, the tests and the benchmarks import from here
# (defined in hub_accounts and hub_config).
__all__ = ["ASSIGNMENT", "STATE_DIR", "STUDENT_LIMITS", "EXCHANGE", "HubSettings", "Member",
           "setup", "start", "status", "stop", "remove", "running_pid", "read_class_list",
           "load_settings", "check_accounts", "new_password", "write_private"]
