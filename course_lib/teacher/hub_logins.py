"""The classroom server's students log in through the hub, nowhere else.

A student's account has a password so that JupyterHub can check it (PAM). Without more,
the same password opens an SSH session (or ``su``, a console login) with a shell outside
the hub, where the per-student memory, CPU and process limits do not hold. Two layers
close that, for the students alone (the teacher keeps SSH):

* the students are in a group of their own (:func:`students_group`), which a drop-in of
  the SSH server's settings refuses (``DenyGroups``, every kind of SSH login: password,
  keys, tunnels), written where the SSH server reads its drop-ins and removed with the
  classroom;
* their login shell is ``/usr/sbin/nologin``, so that ``su``, a console or any other
  login that starts their shell ends at once. The hub does not need that shell: it starts
  each server itself, and the spawner gives the students' JupyterLab terminals
  ``/bin/bash``.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

from course_lib.teacher.course import CourseError
from course_lib.teacher.hub_config import STATE_DIR, SYSTEM_PATH

SSHD_CONFIG_DIR = Path("/etc/ssh/sshd_config.d")
NO_LOGIN = "/usr/sbin/nologin"


def students_group(state: Path) -> str:
    """The group of one classroom's students: ``course-students`` for the classroom in
    the standard place, with a short mark of the folder for any other (two classrooms on
    one server never share it, so removing one leaves the other's alone)."""
    if Path(state).resolve() == STATE_DIR:
        return "course-students"
    return "course-students-" + hashlib.sha256(str(Path(state).resolve()).encode()
                                               ).hexdigest()[:6]


def _tool(name: str) -> str:
    return shutil.which(name, path=SYSTEM_PATH) or name


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def enroll(students: list[str], group: str) -> None:
    """Put ``students`` (accounts the course made) in ``group`` and give them the login
    shell that refuses logins; make the group if it is missing."""
    if _run([_tool("getent"), "group", group]).returncode != 0:
        done = _run([_tool("groupadd"), "--system", group])
        if done.returncode != 0:
            raise CourseError(f"Could not make the students' group {group}: "
                              f"{done.stderr.strip()}")
    for student in students:
        account = pwd.getpwnam(student)
        changes = ["--append", "--groups", group]
        if account.pw_shell != NO_LOGIN:
            changes += ["--shell", NO_LOGIN]
        done = _run([_tool("usermod"), *changes, student])
        if done.returncode != 0:
            raise CourseError(f"Could not close the logins of {student} outside the hub "
                              f"(usermod: {done.stderr.strip()}).")


def remove_group(group: str) -> None:
    """Delete the students' group (after their accounts)."""
    if group:
        _run([_tool("groupdel"), group])


def ssh_dropin(group: str, config_dir: Path = SSHD_CONFIG_DIR) -> Path:
    """Where the SSH server's drop-in that refuses ``group`` is written."""
    return Path(config_dir) / f"{group}.conf"


def write_ssh_dropin(group: str, state: Path, config_dir: Path = SSHD_CONFIG_DIR,
                     report=print) -> Path | None:
    """Make the SSH server refuse the students' group: a drop-in in ``config_dir``, if
    that folder exists (no SSH server's settings there: nothing to do, None). The main
    settings (``sshd_config`` next to it) are checked with ``sshd -t``; should the drop-in
    be what makes them fail, it is taken back and the setup stops, so that a restart of
    the SSH server never fails because of the classroom."""
    config_dir = Path(config_dir)
    if not config_dir.is_dir():
        return None
    path = ssh_dropin(group, config_dir)
    text = (f"# Written by `course hub` for the classroom in {state}; `course hub remove`\n"
            "# removes it. Students log in through the hub only, within its limits: no SSH.\n"
            f"DenyGroups {group}\n")
    path.write_text(text)
    path.chmod(0o644)
    problem = _sshd_config_problem(config_dir.parent / "sshd_config")
    if problem is not None:
        path.unlink()
        if _sshd_config_problem(config_dir.parent / "sshd_config") is None:
            raise CourseError(f"The SSH server refuses the drop-in {path} ({problem}); it "
                              "was taken back. Check that sshd_config includes "
                              f"{config_dir}/*.conf and run `course hub` again.")
        path.write_text(text)
        path.chmod(0o644)
        report(f"Note: `sshd -t` finds a problem in the SSH server's settings that is not "
               f"the classroom's ({problem}); students are refused by {path} once it runs.")
    return path


def _sshd_config_problem(config: Path) -> str | None:
    """What ``sshd -t`` says is wrong with ``config`` (None: nothing, or no sshd here)."""
    sshd = shutil.which("sshd", path=SYSTEM_PATH)
    if sshd is None or not config.is_file():
        return None
    done = _run([sshd, "-t", "-f", str(config)])
    return None if done.returncode == 0 else (done.stderr or done.stdout).strip()[-300:]


def reload_ssh_server(report=print) -> None:
    """Have a running SSH server read its settings again (it reads them when it starts)."""
    systemctl = shutil.which("systemctl", path=SYSTEM_PATH)
    if systemctl and Path("/run/systemd/system").is_dir():
        for unit in ("ssh.service", "sshd.service"):
            if _run([systemctl, "is-active", "--quiet", unit]).returncode == 0:
                _run([systemctl, "reload", unit])
                report(f"The SSH server ({unit}) now refuses the students.")
                return
    try:
        pid = int(Path("/run/sshd.pid").read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError):
        return  # no SSH server runs: it reads the drop-in when it starts
    report("The SSH server now refuses the students.")


def remove_ssh_dropin(path: str | Path, report=print) -> None:
    """Remove the classroom's SSH drop-in and have the SSH server read its settings."""
    if path and Path(path).is_file():
        Path(path).unlink()
        reload_ssh_server(report=lambda _message: None)
        report(f"removed {path}")


def describe(group: str, dropin: str | Path) -> str:
    """One line for ``course hub status``: where students are refused outside the hub."""
    if not group:
        return ("logins outside the hub: NOT closed (set up before this was done): run "
                "`course hub --class-list CLASS.csv` again")
    ssh = (f"SSH refuses the group {group} ({dropin})" if dropin and Path(dropin).is_file()
           else "no SSH server's settings here to refuse them")
    return f"logins outside the hub: {ssh}; students' login shell is {NO_LOGIN}"
