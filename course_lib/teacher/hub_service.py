"""The classroom hub as a system service: started at boot and again after a crash.

Where systemd runs the computer, ``course hub`` writes a unit for the classroom's hub
(:func:`unit_name`, after the state folder: ``mnist-course-hub.service`` for the standard
one), enables it and starts it through ``systemctl``; ``course hub stop`` stops and
disables it, ``course hub remove`` deletes it. The unit runs the same command line as a
hub started by hand (:func:`hub_command`), in the state folder, with the hub's own file
mask (077) and its log appended to ``jupyterhub.log``.

Where systemd does not run (a container, WSL without systemd), the hub stays a background
process with a pid file, and :func:`describe` says that it must be started again after a
reboot. Either way a restart of the hub leaves the students' servers running (the hub's
``cleanup_servers`` is off): under systemd each student's server is in a scope of its own
(:mod:`course_lib.teacher.hub_cgroup`), outside the hub's unit, which stops only the hub,
its proxy and its services.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

from course_lib.teacher.course import CourseError
from course_lib.teacher.hub_config import CONFIG_FILE, STATE_DIR, SYSTEM_PATH

UNIT_DIR = Path("/etc/systemd/system")
RESTART_SECONDS = 5  # between a crash and the next start


def systemd_runs() -> bool:
    """Whether systemd runs this computer (sd_booted()'s own test) with systemctl at hand."""
    return Path("/run/systemd/system").is_dir() and _systemctl_path() is not None


def _systemctl_path() -> str | None:
    return shutil.which("systemctl", path=SYSTEM_PATH)


def unit_name(state: Path) -> str:
    """The unit of one classroom's hub, named after its state folder: the standard folder's
    is ``mnist-course-hub.service``; any other gets a short mark of its path too, so that
    two classrooms on one server never share a unit."""
    state = Path(state).resolve()
    base = re.sub(r"[^A-Za-z0-9_.-]", "-", state.name).strip("-.") or "course"
    if state == STATE_DIR:
        return f"{base}-hub.service"
    return f"{base}-hub-{hashlib.sha256(str(state).encode()).hexdigest()[:6]}.service"


def unit_path(state: Path, unit_dir: Path = UNIT_DIR) -> Path:
    """Where the unit of ``state``'s hub is written."""
    return Path(unit_dir) / unit_name(state)


def hub_command(state: Path) -> list[str]:
    """The hub's command line, the same for a unit and for a hub started by hand."""
    return [str(Path(sys.executable).parent / "jupyterhub"), "-f",
            str(Path(state) / CONFIG_FILE)]


def _quoted(argument: str) -> str:
    """One argument of ExecStart=, kept whole whatever it holds (spaces, quotes, %)."""
    escaped = argument.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'"{escaped}"'


def unit_text(state: Path) -> str:
    """The unit that runs ``state``'s hub: at boot, and again after a crash."""
    state = Path(state).resolve()
    if "\n" in str(state):
        raise CourseError(f"The state folder {state!r} has a line break in its name: give "
                          "a folder without one (--state).")
    command = hub_command(state)
    folder = str(state).replace("%", "%%")
    tools = str(Path(command[0]).parent).replace("%", "%%")
    return f"""\
# Written by `course hub` for the classroom in {folder}; `course hub remove` removes it,
# `course hub stop` stops and disables it, `course hub` enables and starts it again.
[Unit]
Description=Classroom server (JupyterHub) of the course in {folder}
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart={' '.join(_quoted(argument) for argument in command)}
WorkingDirectory={folder}
# The hub's files (database, log, tokens) are private to root from the moment they exist.
UMask=0077
Environment="PATH={tools}:{SYSTEM_PATH}" "LANG=C.UTF-8"
StandardOutput=append:{folder}/jupyterhub.log
StandardError=inherit
Restart=on-failure
RestartSec={RESTART_SECONDS}
# The hub stops its proxy and services itself; whatever is left in the unit then goes.
# The students' servers are in scopes of their own and keep running.
KillMode=mixed
TimeoutStopSec=60

[Install]
WantedBy=multi-user.target
"""


def _systemctl(*arguments: str) -> subprocess.CompletedProcess:
    done = subprocess.run([_systemctl_path() or "systemctl", *arguments], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise CourseError(f"`systemctl {' '.join(arguments)}` failed: "
                          f"{(done.stdout + done.stderr).strip()} (see `journalctl -u "
                          f"{arguments[-1]}`).")
    return done


def install(state: Path, unit_dir: Path = UNIT_DIR) -> Path:
    """Write (or bring up to date) the unit of ``state``'s hub and enable it, so that the
    hub starts at boot; start nothing yet."""
    path = unit_path(state, unit_dir)
    text = unit_text(state)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
        path.chmod(0o644)
        _systemctl("daemon-reload")
    _systemctl("enable", "--quiet", path.name)
    return path


def start(state: Path) -> None:
    """Start the hub's unit (installed before)."""
    _systemctl("start", unit_name(state))


def stop(state: Path, unit_dir: Path = UNIT_DIR) -> bool:
    """Stop and disable the hub's unit if there is one (it stays stopped after a reboot
    until ``course hub`` runs again); True if it was running."""
    path = unit_path(state, unit_dir)
    if not path.is_file() or not systemd_runs():
        return False
    active = subprocess.run([_systemctl_path() or "systemctl", "is-active", "--quiet",
                             path.name], check=False).returncode == 0
    _systemctl("disable", "--now", "--quiet", path.name)
    return active


def remove(state: Path, unit_dir: Path = UNIT_DIR) -> Path | None:
    """Stop, disable and delete the hub's unit; the unit's path if there was one."""
    path = unit_path(state, unit_dir)
    if not path.is_file():
        return None
    if systemd_runs():
        stop(state, unit_dir)
    path.unlink()
    if systemd_runs():
        _systemctl("daemon-reload")
    return path


def describe(state: Path, unit_dir: Path = UNIT_DIR) -> str:
    """One line for ``course hub status``: how the hub comes back after a reboot or a
    crash."""
    name = unit_name(state)
    if not systemd_runs():
        return ("service: not a system service (systemd does not run this computer): start "
                "it again with `course hub` after a reboot or a crash.")
    if not unit_path(state, unit_dir).is_file():
        return (f"service: no unit yet ({name}): `course hub` installs it, to start the hub "
                "at boot and again after a crash.")
    enabled = subprocess.run([_systemctl_path() or "systemctl", "is-enabled", name],
                             capture_output=True, text=True, check=False).stdout.strip()
    if enabled == "enabled":
        return (f"service: {name}, started at boot and again after a crash "
                f"(systemctl status {name}).")
    return (f"service: {name} is {enabled or 'not enabled'}: the hub does not start at boot; "
            "`course hub` enables it again.")
