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
"""

from __future__ import annotations

import csv
import grp
import json
import os
import pwd
import secrets
import shutil
import signal
import ssl
import stat
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from course_lib.teacher import hub_disk, hub_logins, hub_service
from course_lib.teacher.course import ASSIGNMENT, CourseError, require_course
from course_lib.teacher.exchange_collect import COLLECTOR
from course_lib.teacher.hub_exchange import prepare_exchange
from course_lib.teacher.hub_limits import STUDENT_LIMITS, config_lines
from course_lib.teacher.leaderboard import free_loopback_port, hub_service_config
from course_lib.teacher.student_ids import check_student_id

STATE_DIR = Path("/srv/mnist-course")
DEFAULT_IP, DEFAULT_PORT, DEFAULT_TEACHER = "0.0.0.0", 8000, "teacher"
FIRST_REGULAR_UID = 1000  # Debian's UID_MIN: below are the system's own accounts
# Passwords a pupil can read off paper and type: no 0/O, 1/l/I look-alikes, no capitals.
PASSWORD_LETTERS = "abcdefghjkmnpqrstuvwxyz23456789"
PROFILE_DIR = Path("/etc/profile.d")
# JupyterLab's announcements ask every user about "official Jupyter news": not in class.
QUIET_LAB = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}


def _nbgrader_exchange() -> Path:
    from nbgrader.exchange.default.exchange import Exchange

    return Path(Exchange.root.default_value)


EXCHANGE = _nbgrader_exchange()  # nbgrader's own default Exchange.root: no setting needed
PROXY_PACKAGE = "configurable-http-proxy@4"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


# The per-student limits' defaults; the ones in force are JupyterHub settings (hub_limits).
ADMIN_CONFIG_DIR = "jupyterhub_config.d"  # the admin's own settings, read last (as TLJH's)


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


@dataclass
class HubSettings:
    """What ``course hub`` set up, kept in ``STATE_DIR/hub.json`` (the spawner reads it)."""

    course_dir: str  # the classroom's course, in the teacher's home
    teacher: str
    students: list[str]
    created_accounts: list[str]
    ip: str
    port: int
    student_python: str
    teacher_python: str
    student_jupyter_config: str
    teacher_jupyter_config: str
    limits: dict | None = None  # older hub.json only: the limits are JupyterHub settings
    data_path: str = ""
    exchange_course: str = ""  # the course's folder in the exchange that this classroom made
    certificate: str = ""  # copies of the school's certificate and key, in the state folder
    key: str = ""
    redirect_port: int = 0  # plain HTTP port that only redirects to HTTPS (0: not opened)
    profile_script: str = ""  # puts the teacher's tools on their login shells' PATH
    students_group: str = ""  # refused by the SSH server (hub_logins)
    ssh_dropin: str = ""  # the SSH server's drop-in that refuses them ("": none written)
    disk_mb: int = hub_disk.DEFAULT_DISK_MB  # each student's disk cap where quotas are on
    leaderboard_port: int = 0  # the leaderboard service's port on the loopback (0: not chosen)

    @property
    def url(self) -> str:
        """The address students open."""
        host = self.ip if self.ip not in ("", "0.0.0.0") else _host_name()
        if self.certificate:
            # Browsers accept the certificate only under a name it holds (a Let's Encrypt
            # certificate names the public host, never this computer's address).
            host = _name_in_certificate(Path(self.certificate), host)
        return f"{'https' if self.certificate else 'http'}://{host}:{self.port}/"


def _name_in_certificate(certificate: Path, host: str) -> str:
    """``host`` if the certificate holds it; else the first plain DNS name it holds."""
    from cryptography import x509

    try:
        names = x509.load_pem_x509_certificate(certificate.read_bytes()).extensions \
            .get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return host
    dns = names.get_values_for_type(x509.DNSName)
    addresses = [str(address) for address in names.get_values_for_type(x509.IPAddress)]
    if host in dns or host in addresses:
        return host
    return next((name for name in dns if not name.startswith("*")), host)


def _host_name() -> str:
    import socket

    return socket.getfqdn() or "localhost"


def _settings_path(state: Path) -> Path:
    return state / "hub.json"


def load_settings(state: Path = STATE_DIR) -> HubSettings | None:
    """The hub's settings, or None when no hub was set up here."""
    path = _settings_path(state)
    return HubSettings(**json.loads(path.read_text())) if path.is_file() else None


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
        password = _ensure_account(member)
        if password:
            created.add(member.id)
            passwords[member.id] = password
    _keep_passwords(state, passwords)
    group = (previous.students_group if previous else "") or hub_logins.students_group(state)
    hub_logins.enroll([m.id for m in members], group)
    dropin = hub_logins.write_ssh_dropin(group, state, report=report)
    if dropin is not None:
        hub_logins.reload_ssh_server(report)
    student_python = _ensure_student_environment(state, report)
    teacher_python = _ensure_teacher_environment(state, report)
    classroom = _ensure_classroom_course(course_dir, teacher, members, teacher_python,
                                         report)
    course_id = _read_course_id(classroom)
    if not course_id:
        raise CourseError(f"The classroom's course {classroom} names no course id "
                          "(c.CourseDirectory.course_id in its nbgrader_config.py): "
                          "nbgrader's exchange needs one. Set it and run `course hub` again.")
    prepare_exchange(EXCHANGE, course_id, teacher)
    disk_mb = disk_mb if disk_mb is not None else (
        previous.disk_mb if previous else hub_disk.DEFAULT_DISK_MB)
    hub_disk.apply_caps([m.id for m in members], disk_mb, [EXCHANGE, Path("/tmp")], report)
    proxy = _ensure_proxy(state, report)
    tls = _install_certificate(state, certificate, key) if certificate is not None else (
        (previous.certificate, previous.key) if previous else ("", ""))
    settings = HubSettings(
        course_dir=str(classroom), teacher=teacher, students=[m.id for m in members],
        created_accounts=sorted(created),
        ip=ip or (previous.ip if previous else DEFAULT_IP),
        port=port or (previous.port if previous else 443 if certificate else DEFAULT_PORT),
        student_python=str(student_python), teacher_python=str(teacher_python),
        student_jupyter_config=str(_ensure_jupyter_config(state / "jupyter-student", None)),
        teacher_jupyter_config=str(_ensure_jupyter_config(state / "jupyter-teacher",
                                                          classroom)),
        data_path=_data_path(), exchange_course=course_id,
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
    write_private(_settings_path(state), json.dumps(asdict(settings), indent=1))
    (state / ADMIN_CONFIG_DIR).mkdir(mode=0o700, exist_ok=True)
    write_private(state / "jupyterhub_config.py",
                  _hub_config(settings, state, proxy) + _admin_config(state))
    for member, password in passwords.items():
        report(f"account {member}: password {password}")
    return settings


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


def _require_root_on_linux() -> None:
    if not sys.platform.startswith("linux"):
        raise CourseError("The classroom server needs Linux.")
    if os.geteuid() != 0:
        raise CourseError("`course hub` makes system accounts and starts services: run it "
                          "as root (sudo .venv/bin/course hub ...).")


def _ensure_account(member: Member) -> str | None:
    """Make the account if it is missing; return its new password (None if it existed)."""
    try:
        pwd.getpwnam(member.id)
        fresh = None
    except KeyError:
        _run(["useradd", "--create-home", "--shell", "/bin/bash", "--comment",
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


def _keep_passwords(state: Path, passwords: dict[str, str]) -> None:
    """Add new accounts' passwords to a file only root reads, for handing them out."""
    path = state / "passwords.csv"
    rows = dict(csv.reader(path.read_text().splitlines())) if path.is_file() else {}
    rows.update(passwords)
    write_private(path, "".join(f"{k},{v}\n" for k, v in sorted(rows.items())))


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
        _as_user(teacher, [str(python), "-m", "course_lib.teacher.cli", "--course",
                           str(classroom), "generate"])
    for member in members:
        first, _, last = member.name.partition(" ")
        _as_user(teacher, [str(python), "-m", "nbgrader", "db", "student", "add",
                           member.id, f"--first-name={first}", f"--last-name={last}"],
                 cwd=classroom)
    return classroom


def _ensure_student_environment(state: Path, report) -> Path:
    """The students' Python environment: the students' package and what runs it, with
    nbgrader's Assignments tab and nothing else of nbgrader's."""
    from course_lib.teacher.package import build_student_wheel

    wheel = build_student_wheel(state / "dist")
    environment = state / "student-env"
    stamp = f"{wheel.name} {_digest(wheel)}"
    if _is_current(environment, stamp):
        return environment / "bin" / "python"
    report("Installing the students' environment (JupyterLab, nbgrader's Assignments tab, "
           "the students' package): a few minutes the first time ...")
    python = _new_environment(environment)
    _pip_install(python, "--force-reinstall", "--no-deps", str(wheel))
    _pip_install(python, str(wheel), *_hub_side_packages())
    # Students see nbgrader's Assignments tab only: no Formgrader, no Create Assignment.
    jupyter = environment / "bin" / "jupyter"
    for extension in ("formgrader", "course_list"):
        _run([str(jupyter), "server", "extension", "disable", "--sys-prefix",
              f"nbgrader.server_extensions.{extension}"])
    for plugin in ("formgrader", "create-assignment", "course-list"):
        _run([str(jupyter), "labextension", "disable", "--level=sys_prefix",
              f"@jupyter/nbgrader:{plugin}"])
    (environment / ".course-stamp").write_text(stamp)
    return python


def _ensure_teacher_environment(state: Path, report) -> Path:
    """The teacher's Python environment: this course, installed from its project folder
    (a copy, so that the teacher's account needs no access to that folder)."""
    import course_lib

    project = Path(course_lib.__file__).resolve().parents[1]
    if not (project / "pyproject.toml").is_file():
        raise CourseError(f"The teacher's environment is installed from the course's project "
                          f"folder, but {project} has no pyproject.toml: run `course hub` "
                          "from the course's project folder (installed with pip install -e).")
    environment = state / "teacher-env"
    code = sorted([project / "pyproject.toml", *(project / "course_lib").rglob("*.py"),
                   *(project / "course_lib").rglob("*.mo")])
    stamp = _digest_all(code)
    if _is_current(environment, stamp):
        return environment / "bin" / "python"
    report("Installing the teacher's environment (the course with JupyterLab and "
           "nbgrader): a few minutes the first time ...")
    python = _new_environment(environment)
    _pip_install(python, f"{project}[hub]")
    _pip_install(python, "--force-reinstall", "--no-deps", str(project))
    (environment / ".course-stamp").write_text(stamp)
    return python


def _digest_all(paths: list[Path]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _is_current(environment: Path, stamp: str) -> bool:
    marker = environment / ".course-stamp"
    return (environment / "bin" / "python").exists() and marker.is_file() \
        and marker.read_text() == stamp


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _hub_side_packages() -> list[str]:
    """The versions of what a user's server runs, the same as the hub's own."""
    from importlib import metadata

    return [f"{name}=={metadata.version(name)}" for name in ("jupyterhub", "nbgrader",
                                                               "jupyterlab")]


def _new_environment(folder: Path) -> Path:
    """A fresh virtual environment in ``folder``, of a Python every account may run."""
    if not (folder / "bin" / "python").exists():
        _run([str(_python_for_everyone()), "-m", "venv", str(folder)])
    folder.chmod(0o755)
    return folder / "bin" / "python"


def _python_for_everyone() -> Path:
    """This Python if every account may run it, else the system's of the same version."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [Path(sys.base_prefix) / "bin" / version, Path("/usr/bin") / version,
                  Path("/usr/local/bin") / version]
    for candidate in candidates:
        if candidate.exists() and _everyone_may_run(candidate.resolve()):
            return candidate
    raise CourseError(
        f"The users' servers need a Python {sys.version_info.major}."
        f"{sys.version_info.minor} that every account may run, but this one "
        f"({Path(sys.base_prefix)}) is in a folder others cannot enter. Install the "
        f"system's (Debian: apt install {version} {version}-venv).")


def _everyone_may_run(path: Path) -> bool:
    """Whether other accounts can reach and execute ``path`` (by its permission bits)."""
    if not path.stat().st_mode & 0o001:
        return False
    return all(parent.stat().st_mode & 0o001 for parent in path.parents)


def _ensure_proxy(state: Path, report) -> Path:
    """configurable-http-proxy, JupyterHub's proxy, from the npm registry."""
    proxy = state / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
    if not proxy.exists():
        if shutil.which("npm") is None:
            raise CourseError("JupyterHub's proxy comes from npm, which is missing: install "
                              "Node.js (Debian: apt install nodejs npm).")
        report(f"Installing {PROXY_PACKAGE} from npm ...")
        _run(["npm", "install", "--silent", "--prefix", str(state / "proxy"), PROXY_PACKAGE])
    return proxy


def _ensure_jupyter_config(folder: Path, course_dir: Path | None) -> Path:
    """The Jupyter settings of one side: the teacher's point nbgrader at the course and let
    Formgrader show inside JupyterLab; nobody is asked about Jupyter news."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    (folder / "labconfig").mkdir(exist_ok=True)
    (folder / "labconfig").chmod(0o755)
    (folder / "labconfig" / "page_config.json").write_text(json.dumps(QUIET_LAB))
    server = "c = get_config()  # noqa: F821 - written by `course hub`\n"
    if course_dir is not None:
        # JupyterHub forbids every frame ("frame-ancestors 'none'"); JupyterLab shows
        # Formgrader in a frame of the same server, which 'self' allows (no other site).
        server += ('c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": '
                   '"frame-ancestors \'self\'"}}\n')
    (folder / "jupyter_server_config.py").write_text(server)
    settings = "c = get_config()  # noqa: F821 - written by `course hub`\n"
    if course_dir is not None:
        settings += f"c.CourseDirectory.root = {str(course_dir)!r}\n"
        # Formgrader reads these settings, not the course's: it renders nothing of a
        # student's as script (as in the course's nbgrader_config.py).
        settings += ('c.HTMLExporter.sanitize_html = True\nc.HTMLExporter.filters = '
                     '{"markdown2html": "course_lib.autograder.inert_markdown.markdown2html"}\n')
        # Formgrader's Collect too trusts the exchange's owners and times, not the names.
        settings += f"c.ExchangeFactory.collect = {COLLECTOR!r}\n"
    (folder / "nbgrader_config.py").write_text(settings)
    return folder


def _data_path() -> str:
    """The full MNIST prepared on this server (``course data``), if every account may read
    it: then each student's lesson uses it instead of downloading its own."""
    from course_lib.autograder.sandbox import grading_data_path

    found = grading_data_path()
    readable = found is not None and all(
        path.stat().st_mode & 0o005 for path in [found, *found.parents]
        if path.is_dir()) and (found.is_dir() or found.stat().st_mode & 0o004)
    return str(found) if readable else ""


def _hub_config(settings: HubSettings, state: Path, proxy: Path) -> str:
    proxy_command = [str(proxy)]
    tls = ""
    if settings.certificate:
        tls = (f"c.JupyterHub.ssl_cert = {settings.certificate!r}\n"
               f"c.JupyterHub.ssl_key = {settings.key!r}\n")
        if settings.redirect_port:
            proxy_command += ["--redirect-port", str(settings.redirect_port)]
    return f'''"""JupyterHub's settings for the course, written by `course hub` (run it again to
change them; changes made here are overwritten)."""

c = get_config()  # noqa: F821
c.JupyterHub.ip = {settings.ip!r}
c.JupyterHub.port = {settings.port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.ConfigurableHTTPProxy.command = {proxy_command!r}
{tls}c.JupyterHub.db_url = "sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(state / 'jupyterhub_cookie_secret')!r}
c.JupyterHub.pid_file = {str(state / 'jupyterhub.pid')!r}
# A restart of the hub (a crash, `course hub stop`, a new certificate) leaves the users'
# servers running: the hub finds them again in its database, its proxy (replaced through
# its pid file, also when a crashed hub left it running) routes to them again.
c.JupyterHub.cleanup_servers = False
c.ConfigurableHTTPProxy.pid_file = {str(state / 'jupyterhub-proxy.pid')!r}
{hub_service_config(settings.teacher, settings.teacher_python, settings.course_dir,
                    settings.leaderboard_port or free_loopback_port())}\
# Logins are the accounts' own passwords (PAM): no identity server to run; who may log
# in is read from the class list at each login, so new students need no restart.
c.JupyterHub.authenticator_class = "course_lib.teacher.hub_auth.CourseAuthenticator"
c.CourseAuthenticator.settings_file = {str(_settings_path(state))!r}
c.Authenticator.any_allow_config = True
c.Authenticator.admin_users = {{{settings.teacher!r}}}
c.JupyterHub.spawner_class = "course_lib.teacher.hub_spawner.CourseSpawner"
c.CourseSpawner.settings_file = {str(_settings_path(state))!r}
# Each student's server (the teacher's has none); an admin changes them in
# {ADMIN_CONFIG_DIR}/*.py, e.g. c.CourseSpawner.mem_limit = "4G".
{config_lines(STUDENT_LIMITS)}c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
'''


def _admin_config(state: Path) -> str:
    """The end of the generated settings: the admin's own files, in name order, so that
    what they set wins and survives `course hub` runs."""
    return f'''
# The admin's own settings, read last so that they win; `course hub` never changes them.
import glob as _glob
for _path in sorted(_glob.glob({str(state / ADMIN_CONFIG_DIR / "*.py")!r})):
    load_subconfig(_path)  # noqa: F821
'''


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
        configured = configured_limits(state / "jupyterhub_config.py")
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
    try:
        uid = pwd.getpwnam(account).pw_uid
    except KeyError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        owners = []
        for entry in Path("/proc").iterdir():
            try:
                owners.append(entry.stat().st_uid if entry.name.isdigit() else None)
            except OSError:
                pass  # gone meanwhile
        if uid not in owners:
            return
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


# ---- helpers ---------------------------------------------------------------------------------

def _pip_install(python: Path, *arguments: str) -> None:
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          *arguments])


def _run(command: list[str], cwd: Path | None = None) -> None:
    environment = {**os.environ, "PATH": f"{os.environ.get('PATH', '')}:{SYSTEM_PATH}"}
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False,
                          env=environment)
    if done.returncode != 0:
        raise CourseError(f"`{' '.join(command)}` failed:\n"
                          + "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:]))


def _as_user(user: str, command: list[str], cwd: Path | None = None) -> None:
    """Run ``command`` as ``user`` (nbgrader's files then belong to them)."""
    environment = {"PATH": f"{Path(command[0]).parent}:{SYSTEM_PATH}",
                   "HOME": pwd.getpwnam(user).pw_dir, "TF_CPP_MIN_LOG_LEVEL": "2",
                   "LANG": "C.UTF-8"}
    runuser = shutil.which("runuser", path=SYSTEM_PATH) or "runuser"
    done = subprocess.run([runuser, "-u", user, "--", *command], cwd=cwd, env=environment,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CourseError(f"`{' '.join(command)}` as {user} failed:\n"
                          + "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:]))


def _chown_tree(folder: Path, user: str) -> None:
    account = pwd.getpwnam(user)
    group = grp.getgrgid(account.pw_gid).gr_gid
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, account.pw_uid, group, follow_symlinks=False)


__all__ = ["ASSIGNMENT", "STATE_DIR", "STUDENT_LIMITS", "EXCHANGE", "setup", "start",
           "status", "stop", "remove", "read_class_list", "load_settings", "check_accounts",
           "new_password", "write_private"]
