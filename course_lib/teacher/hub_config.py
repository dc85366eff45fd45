"""The classroom server's settings and the configuration files written from them.

``course hub`` keeps what it set up in ``hub.json`` in the state folder (:data:`STATE_DIR`
unless ``--state`` says otherwise): :class:`HubSettings`, which the hub's authenticator and
spawner read at each login and each start. From them it writes JupyterHub's
``jupyterhub_config.py`` (:func:`jupyterhub_config`: PAM logins for the class list, the
course's spawner with :data:`~course_lib.teacher.hub_limits.STUDENT_LIMITS`, HTTPS, the
leaderboard service; the admin's own ``jupyterhub_config.d/*.py`` read last,
:func:`admin_config`) and the Jupyter settings of each side (:func:`ensure_jupyter_config`).

The other hub modules take the server's fixed places from here: the state folder and the
system's programs (:data:`SYSTEM_PATH`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from course_lib.teacher.exchange_collect import COLLECTOR
from course_lib.teacher.hub_limits import STUDENT_LIMITS, config_lines
from course_lib.teacher.leaderboard import free_loopback_port, hub_service_config

STATE_DIR = Path("/srv/mnist-course")  # the standard classroom's state folder
# The system's programs, found there whatever PATH the hub or `course hub` was started with.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_IP, DEFAULT_PORT, DEFAULT_TEACHER = "0.0.0.0", 8000, "teacher"
DEFAULT_DISK_MB = 1024  # a student's lesson needs a few MB; models and data fit easily
SETTINGS_FILE = "hub.json"
CONFIG_FILE = "jupyterhub_config.py"
ADMIN_CONFIG_DIR = "jupyterhub_config.d"  # the admin's own settings, read last (as TLJH's)
# JupyterLab's announcements ask every user about "official Jupyter news": not in class.
QUIET_LAB = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}


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
    disk_mb: int = DEFAULT_DISK_MB  # each student's disk cap where quotas are on
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


def settings_path(state: Path) -> Path:
    """Where the hub's settings (``hub.json``) of the classroom in ``state`` are kept."""
    return Path(state) / SETTINGS_FILE


def load_settings(state: Path = STATE_DIR) -> HubSettings | None:
    """The hub's settings, or None when no hub was set up here."""
    path = settings_path(state)
    return HubSettings(**json.loads(path.read_text())) if path.is_file() else None


def ensure_jupyter_config(folder: Path, course_dir: Path | None) -> Path:
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


def data_path() -> str:
    """The full MNIST prepared on this server (``course data``), if every account may read
    it: then each student's lesson uses it instead of downloading its own."""
    from course_lib.autograder.sandbox import grading_data_path

    found = grading_data_path()
    readable = found is not None and all(
        path.stat().st_mode & 0o005 for path in [found, *found.parents]
        if path.is_dir()) and (found.is_dir() or found.stat().st_mode & 0o004)
    return str(found) if readable else ""


def jupyterhub_config(settings: HubSettings, state: Path, proxy: Path) -> str:
    """The text of ``jupyterhub_config.py`` for the classroom in ``state``, whose proxy is
    the program ``proxy``; :func:`admin_config` is what follows it."""
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
c.CourseAuthenticator.settings_file = {str(settings_path(state))!r}
c.Authenticator.any_allow_config = True
c.Authenticator.admin_users = {{{settings.teacher!r}}}
c.JupyterHub.spawner_class = "course_lib.teacher.hub_spawner.CourseSpawner"
c.CourseSpawner.settings_file = {str(settings_path(state))!r}
# Each student's server (the teacher's has none); an admin changes them in
# {ADMIN_CONFIG_DIR}/*.py, e.g. c.CourseSpawner.mem_limit = "4G".
{config_lines(STUDENT_LIMITS)}c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
'''


def admin_config(state: Path) -> str:
    """The end of the generated settings: the admin's own files, in name order, so that
    what they set wins and survives `course hub` runs."""
    return f'''
# The admin's own settings, read last so that they win; `course hub` never changes them.
import glob as _glob
for _path in sorted(_glob.glob({str(state / ADMIN_CONFIG_DIR / "*.py")!r})):
    load_subconfig(_path)  # noqa: F821
'''
