"""Does the classroom hub come back after a reboot or a crash? The unit `course hub` writes
where systemd runs (checked by systemd's own `systemd-analyze verify`), what `course hub`
asks of systemctl (a stand-in that records it), and the plain-process route used where
systemd does not run. The real hub killed under a student is in test_classroom.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_lib.teacher import hub, hub_service

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def test_the_unit_passes_systemds_own_check(tmp_path):
    """Is the hub's unit accepted by `systemd-analyze verify` without a word, and does it
    start at boot, restart after a crash, run the command `course hub` runs by hand in the
    state folder with the hub's mask 077, and keep the students' servers on stop?"""
    if SYSTEMD_ANALYZE is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing; .ci/run installs Debian's systemd")
        pytest.skip("needs systemd-analyze (apt install systemd)")
    state = tmp_path / "my classroom %1"  # a space and a specifier must stay as they are
    state.mkdir()
    unit = tmp_path / hub_service.unit_name(state)
    unit.write_text(hub_service.unit_text(state))
    checked = subprocess.run([SYSTEMD_ANALYZE, "verify", str(unit)], capture_output=True,
                             text=True, check=False)
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr
    lines = unit.read_text().splitlines()
    command = hub_service.hub_command(state)
    assert command[0] == str(Path(sys.executable).parent / "jupyterhub")
    assert f'ExecStart="{command[0]}" "-f" "{tmp_path}/my classroom %%1/jupyterhub_config.py"' \
        in lines
    for line in ("Restart=on-failure", "UMask=0077", f"WorkingDirectory={tmp_path}/my "
                 "classroom %%1", "WantedBy=multi-user.target", "KillMode=mixed"):
        assert line in lines, line


def test_a_broken_unit_is_caught(tmp_path):
    """Would the check above see a unit systemd cannot run (its program missing, a wrong
    restart rule)?"""
    if SYSTEMD_ANALYZE is None:
        pytest.skip("needs systemd-analyze (apt install systemd)")
    text = hub_service.unit_text(tmp_path)
    for broken in (text.replace(str(Path(sys.executable).parent), "/nowhere"),
                   text.replace("Restart=on-failure", "Restart=sometimes")):
        unit = tmp_path / "broken-hub.service"
        unit.write_text(broken)
        checked = subprocess.run([SYSTEMD_ANALYZE, "verify", str(unit)], capture_output=True,
                                 text=True, check=False)
        assert checked.returncode != 0 or checked.stderr.strip()


def test_each_classroom_has_its_own_unit(tmp_path):
    """Is the standard classroom's unit mnist-course-hub.service, and do two other
    classrooms' units differ, named after their folders?"""
    assert hub_service.unit_name(Path("/srv/mnist-course")) == "mnist-course-hub.service"
    first, second = tmp_path / "a" / "class", tmp_path / "b" / "class"
    names = {hub_service.unit_name(first), hub_service.unit_name(second)}
    assert len(names) == 2 and all(n.startswith("class-hub-") for n in names)


@pytest.fixture
def systemctl(tmp_path, monkeypatch):
    """A stand-in systemctl on a computer that systemd runs: it records what it is asked
    (its answer to is-active/is-enabled: the file `active`)."""
    calls = tmp_path / "systemctl-calls"
    script = tmp_path / "systemctl"
    script.write_text(f"#!/bin/sh\necho \"$*\" >> {calls}\ncase \"$1\" in is-*) "
                      f"cat {tmp_path}/active 2>/dev/null || exit 3;; esac\n")
    script.chmod(0o755)
    monkeypatch.setattr(hub_service, "systemd_runs", lambda: True)
    monkeypatch.setattr(hub_service, "_systemctl_path", lambda: str(script))
    return lambda: calls.read_text().splitlines() if calls.exists() else []


def test_where_systemd_runs_the_unit_is_enabled_stopped_and_removed(tmp_path, systemctl):
    """Does `course hub` write the unit, reload systemd and enable it, start it, and do
    stop and remove disable and delete it?"""
    units, state = tmp_path / "units", tmp_path / "state"
    units.mkdir()
    state.mkdir()
    name = hub_service.unit_name(state)
    path = hub_service.install(state, unit_dir=units)
    assert path == units / name and path.read_text() == hub_service.unit_text(state)
    assert systemctl() == ["daemon-reload", f"enable --quiet {name}"]
    hub_service.install(state, unit_dir=units)  # unchanged: no reload
    assert systemctl()[2:] == [f"enable --quiet {name}"]
    hub_service.start(state)
    assert systemctl()[-1] == f"start {name}"
    (tmp_path / "active").write_text("enabled\n")
    assert "started at boot and again after a crash" in hub_service.describe(state, units)
    assert hub_service.stop(state, unit_dir=units)
    assert systemctl()[-1] == f"disable --now --quiet {name}"
    assert hub_service.remove(state, unit_dir=units) == path
    assert not path.exists() and systemctl()[-1] == "daemon-reload"


def test_without_systemd_status_says_to_start_it_again(tmp_path, monkeypatch):
    """Where systemd does not run the computer, does `course hub status` say that the hub
    is no system service and must be started again after a reboot?"""
    monkeypatch.setattr(hub_service, "systemd_runs", lambda: False)
    line = hub_service.describe(tmp_path)
    assert "not a system service" in line
    assert "start it again with `course hub` after a reboot" in line
    assert hub_service.stop(tmp_path, unit_dir=tmp_path) is False


def test_a_crashed_hubs_pid_file_does_not_count_as_running(tmp_path):
    """After a crash the pid file stays: is the hub seen as stopped when that process is
    gone, or when its number now belongs to another program (so `course hub` starts it)?"""
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / "jupyterhub.pid").write_text(str(sleeper.pid))
        assert hub.running_pid(tmp_path) is None  # alive, but not a hub
    finally:
        sleeper.kill()
        sleeper.wait()
    assert hub.running_pid(tmp_path) is None  # gone
    fake_hub = tmp_path / "jupyterhub"  # run as the real one is: the interpreter, then it
    fake_hub.write_text("import time\ntime.sleep(60)\n")
    runs = subprocess.Popen([sys.executable, str(fake_hub)])
    try:
        # Until the child has started the interpreter, its command line is still pytest's.
        cmdline = Path(f"/proc/{runs.pid}/cmdline")
        for _ in range(200):
            if str(fake_hub).encode() in cmdline.read_bytes():
                break
            time.sleep(0.05)
        (tmp_path / "jupyterhub.pid").write_text(str(runs.pid))
        assert hub.running_pid(tmp_path) == runs.pid
    finally:
        runs.kill()
        runs.wait()
