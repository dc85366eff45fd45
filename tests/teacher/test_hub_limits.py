"""Do the per-student limits of the classroom server come from JupyterHub's settings (an
admin's jupyterhub_config.d wins), hold on a real server process, and, where the kernel
does not let them hold (cgroup v2 without the controllers delegated), does the spawner
refuse or say so? Fast: no hub runs; tests/teacher/test_classroom.py runs the whole one.

Real kernel here: the cgroup v1 route (memory, cpu, pids) and, where the computer has a
cgroup v2 hierarchy with some controller (hugetlb on a hybrid host), the hub's move into
its leaf and the kernel's refusal without it. The v2 memory/cpu/pids limits are checked on a
model of the kernel's rules (tests/helpers/fake_cgroup2.py); the systemd scope by its
command line only.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers.accounts import accounts, require_root, shared_folder
from helpers.fake_cgroup2 import FakeCgroup2, install

from course_lib.teacher import hub, hub_cgroup, hub_config, hub_limits
from course_lib.teacher.hub_spawner import CourseSpawner

MB = 2**20
UNIFIED = Path("/sys/fs/cgroup/unified")  # a hybrid host's cgroup v2 hierarchy


def write_hub_config(state: Path) -> Path:
    """The jupyterhub_config.py `course hub` writes, for a classroom in ``state``."""
    settings = hub_config.HubSettings(
        course_dir="/c", teacher="mnist-teacher", students=[], created_accounts=[],
        ip="127.0.0.1", port=8000, student_python="/env/bin/python",
        teacher_python="/env/bin/python", student_jupyter_config="",
        teacher_jupyter_config="")
    (state / "jupyterhub_config.d").mkdir(parents=True)
    config = state / "jupyterhub_config.py"
    config.write_text(hub_config.jupyterhub_config(settings, state, Path("/proxy"))
                      + hub_config.admin_config(state))
    return config


def spawner_for(config_file: Path, account: str) -> CourseSpawner:
    """The spawner JupyterHub would make for ``account`` from ``config_file``."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(config_file.name, str(config_file.parent)).load_config()
    spawner = CourseSpawner(config=config, user=SimpleNamespace(name=account))
    spawner.log = logging.getLogger("test-hub-limits")
    return spawner


def test_the_generated_settings_hold_the_limits_and_the_admin_wins(tmp_path):
    """Does jupyterhub_config.py set the default limits as CourseSpawner settings, and do
    the admin's jupyterhub_config.d files (read in name order, the last winning) change
    them?"""
    config = write_hub_config(tmp_path)
    text = config.read_text()
    assert "c.CourseSpawner.mem_limit = '2560M'" in text
    assert "c.CourseSpawner.process_limit = 512" in text
    assert hub_limits.configured_limits(config) == hub_limits.STUDENT_LIMITS
    (tmp_path / "jupyterhub_config.d" / "50-memory.py").write_text(
        "c.CourseSpawner.mem_limit = '1G'\nc.CourseSpawner.process_limit = 200\n")
    (tmp_path / "jupyterhub_config.d" / "10-first.py").write_text(
        "c.CourseSpawner.mem_limit = '3G'\nc.CourseSpawner.cpu_limit = 0.5\n")
    assert hub_limits.configured_limits(config) == hub_limits.StudentLimits(
        memory_mb=1024, cpu_cores=0.5, processes=200)
    (tmp_path / "jupyterhub_config.d" / "60-typo.py").write_text("c.CourseSpawner.mem_limit = \n")
    with pytest.raises(ValueError, match="cannot be read.*Correct the file"):
        hub_limits.configured_limits(config)


def test_an_admins_memory_limit_is_in_force_on_a_students_server(tmp_path):
    """Does c.CourseSpawner.mem_limit = '1G' in jupyterhub_config.d put a real server
    process, started through the spawner as the student, in a control group with 1 GiB,
    and does `course hub status` say the limits are in force?"""
    require_root()
    if hub_cgroup.route() != "v1":
        pytest.skip("the real-server check runs on cgroup v1 (this host's is "
                    f"{hub_cgroup.route()}); v2 is checked below")
    config = write_hub_config(tmp_path)
    (tmp_path / "jupyterhub_config.d" / "50-memory.py").write_text(
        "c.CourseSpawner.mem_limit = '1G'\n")
    with accounts("student") as names, shared_folder() as folder:
        student = names["student"]
        server = folder / "jupyterhub-singleuser"  # stands in for JupyterLab's server
        server.write_text("#!/bin/sh\nsleep 60\nexit 0\n")
        server.chmod(0o755)
        spawner = spawner_for(config, student)
        spawner._hold_to_limits()
        try:
            spawner.proc = subprocess.Popen([str(server)],
                                            preexec_fn=spawner.make_preexec_fn(student))
            spawner.pid = spawner.proc.pid  # as LocalProcessSpawner.start sets it
            try:
                asyncio.run(spawner._check_limits())  # raises if not within them
                found = hub_limits.limits_of(spawner.proc.pid)
                assert os.stat(f"/proc/{spawner.proc.pid}").st_uid != 0
                memory_group = next(line.split(":", 2)[2] for line in Path(
                    f"/proc/{spawner.proc.pid}/cgroup").read_text().splitlines()
                    if line.split(":")[1] == "memory")
                limit = Path("/sys/fs/cgroup/memory") / memory_group.lstrip("/") / \
                    "memory.limit_in_bytes"
                assert int(limit.read_text()) == 2**30
                lines = hub._limits_lines(tmp_path, [student])
            finally:
                spawner.proc.kill()
                spawner.proc.wait()
        finally:
            folders = spawner._group.folders if spawner._group is not None else []
            if spawner._group is not None:  # else stopped and removed by the spawner
                spawner._group.remove()
    assert folders and not any(folder.exists() for folder in folders)
    # A server the hub restored after a restart: its stop finds the group by name.
    again = hub_cgroup.create(student, hub_cgroup.Limits(2**30, 1.0, 512))
    asyncio.run(spawner_for(config, student).stop(now=True))
    assert again.folders and not any(folder.exists() for folder in again.folders)
    assert (found.memory_mb, found.cpu_cores, found.processes) == (1024, 1.0, 512)
    assert lines[0].startswith("per student: 1,024 MB, 1 core(s), 512 processes")
    assert lines[1] == f"  {student}: limits in force (1,024 MB, 1 core(s), 512 processes)"


def test_on_cgroup_v2_the_hub_moves_into_a_leaf_before_enabling_controllers(tmp_path,
                                                                           monkeypatch):
    """On cgroup v2 (the kernel's rules modelled), are the hub's processes moved into
    <its group>/hub, memory, cpu and pids enabled for the students' groups, and a
    student's group given memory.max, cpu.max and pids.max from the settings?"""
    tree = FakeCgroup2(tmp_path / "cgroup")
    # Delegated as systemd does for a service with Delegate=yes: the controllers reach it.
    (tree.root / "cgroup.subtree_control").write_text("memory cpu pids")
    (tree.group("system.slice") / "cgroup.subtree_control").write_text("memory cpu pids")
    own = tree.group("system.slice/jupyterhub.service", pids=[101, 102])  # hub and proxy
    install(monkeypatch, tree)
    monkeypatch.setattr(hub_cgroup, "_own_v2_group", lambda root: own)
    config = write_hub_config(tmp_path / "state")
    (tmp_path / "state" / "jupyterhub_config.d" / "50.py").write_text(
        "c.CourseSpawner.mem_limit = '1G'\nc.CourseSpawner.cpu_limit = 0.5\n")
    spawner = spawner_for(config, "ada")
    spawner._hold_to_limits()
    student = own / "student-ada"
    assert spawner._group.folders == [student]
    assert tree.pids(own) == [] and tree.pids(own / "hub") == ["101", "102"]
    assert set((own / "cgroup.subtree_control").read_text().split()) == {"memory", "cpu",
                                                                        "pids"}
    assert (student / "memory.max").read_text() == str(2**30)
    assert (student / "memory.swap.max").read_text() == "0"
    assert (student / "cpu.max").read_text() == "50000 100000"
    assert (student / "pids.max").read_text() == "512"
    # A second student's start finds the hub in its leaf and the controllers enabled.
    monkeypatch.setattr(hub_cgroup, "_own_v2_group", lambda root: own / "hub")
    spawner_for(config, "bob")._hold_to_limits()
    assert (own / "student-bob" / "pids.max").read_text() == "512"


def test_without_delegated_controllers_a_students_server_is_refused(tmp_path, monkeypatch,
                                                                    caplog):
    """On cgroup v2 whose hub group has no memory, cpu and pids controllers (not delegated),
    does the spawner refuse to start a student's server with what to do, or, with
    limits_required = False, start it and say in the log that it has no limits?"""
    tree = FakeCgroup2(tmp_path / "cgroup")
    own = tree.group("system.slice/jupyterhub.service", pids=[101])
    install(monkeypatch, tree)
    monkeypatch.setattr(hub_cgroup, "_own_v2_group", lambda root: own)
    config = write_hub_config(tmp_path / "state")
    with pytest.raises(hub_cgroup.NoLimits) as refused:
        spawner_for(config, "ada")._hold_to_limits()
    message = str(refused.value)
    assert "ada's server was not started" in message
    assert "lacks the cpu and memory and pids controllers" in message
    assert "Delegate=yes" in message and "limits_required = False" in message
    (tmp_path / "state" / "jupyterhub_config.d" / "50.py").write_text(
        "c.CourseSpawner.limits_required = False\n")
    spawner = spawner_for(config, "ada")
    with caplog.at_level(logging.WARNING, logger="test-hub-limits"):
        spawner._hold_to_limits()
    assert spawner._group is None
    assert "ada's server runs WITHOUT the per-student limits" in caplog.text


def test_the_status_says_no_limits_for_a_server_without_them(tmp_path):
    """Is a student's server that runs outside any control group reported as "no limits
    in force", with the limits configured?"""
    require_root()
    config = write_hub_config(tmp_path)
    with accounts("student") as names, shared_folder() as folder:
        server = folder / "jupyterhub-singleuser"
        server.write_text("#!/bin/sh\nsleep 60\nexit 0\n")
        server.chmod(0o755)
        free = subprocess.Popen(["runuser", "-u", names["student"], "--", str(server)])
        try:
            for _ in range(50):
                if hub_limits.server_processes(names["student"]):
                    break
                asyncio.run(asyncio.sleep(0.1))
            line = hub_limits.describe(names["student"],
                                       hub_limits.configured_limits(config))
        finally:
            free.kill()
            free.wait()
            subprocess.run(["pkill", "-KILL", "-u", names["student"]], check=False)
    assert line.startswith(f"{names['student']}: no limits in force (configured: 2,560 MB, "
                           "1 core(s), 512 processes)")


def unified_with(controller: str):
    """The host's real cgroup v2 hierarchy, with ``controller`` enabled at its root (and
    whether that was done here, to undo it), or skip."""
    if not (UNIFIED / "cgroup.controllers").is_file() or controller not in (
            UNIFIED / "cgroup.controllers").read_text().split():
        pytest.skip(f"no cgroup v2 hierarchy with the {controller} controller free here")
    enabled_here = controller not in (UNIFIED / "cgroup.subtree_control").read_text().split()
    if enabled_here:
        (UNIFIED / "cgroup.subtree_control").write_text(f"+{controller}")
    return enabled_here


def test_the_real_kernel_refuses_controllers_beside_the_hub_and_allows_them_after_the_move():
    """On the host's real cgroup v2 hierarchy (hugetlb, the controller free on a hybrid
    host): does the kernel refuse to enable a controller for a group holding the hub's
    processes (EBUSY), does the hub's move into its leaf let it, and is a request for the
    memory, cpu and pids controllers, which this hierarchy does not have, refused with
    what to do?"""
    require_root()
    enabled_here = unified_with("hugetlb")
    own = UNIFIED / f"course-test-{os.getpid()}"
    own.mkdir()
    hub_processes = [subprocess.Popen(["sleep", "60"]) for _ in range(2)]
    try:
        for process in hub_processes:
            (own / "cgroup.procs").write_text(str(process.pid))
        with pytest.raises(OSError) as busy:
            (own / "cgroup.subtree_control").write_text("+hugetlb")
        assert busy.value.errno == errno.EBUSY
        with pytest.raises(hub_cgroup.NoLimits, match="lacks the cpu and memory and pids"):
            hub_cgroup.create("ada", hub_cgroup.Limits(2**30, 1.0, 512), root=UNIFIED,
                              own=own)
        group = hub_cgroup.create("ada", hub_cgroup.Limits(2**30, 1.0, 512), root=UNIFIED,
                                  controllers=("hugetlb",), own=own)
        assert sorted((own / "hub" / "cgroup.procs").read_text().split()) == sorted(
            str(p.pid) for p in hub_processes)
        assert "hugetlb" in (own / "cgroup.subtree_control").read_text().split()
        assert group.folders == [own / "student-ada"]
        assert any(p.name.startswith("hugetlb.") for p in (own / "student-ada").iterdir())
        group.remove()
    finally:
        for process in hub_processes:
            process.kill()
            process.wait()
        for folder in (own / "student-ada", own / "hub", own):
            if folder.is_dir():
                folder.rmdir()
        if enabled_here:
            (UNIFIED / "cgroup.subtree_control").write_text("-hugetlb")


def test_under_systemd_the_server_starts_in_a_scope_with_the_limits(tmp_path, monkeypatch):
    """Where systemd runs the computer, is the student's server started through
    `systemd-run --scope` with MemoryMax, CPUQuota and TasksMax from the settings, as the
    student? (The command line only: this host has no systemd.)"""
    config = write_hub_config(tmp_path)
    (tmp_path / "jupyterhub_config.d" / "50.py").write_text(
        "c.CourseSpawner.mem_limit = '1G'\nc.CourseSpawner.cpu_limit = 0.5\n")
    monkeypatch.setattr(hub_cgroup, "route", lambda root=None: "systemd")
    spawner = spawner_for(config, "ada")
    spawner.cmd = ["/env/bin/jupyterhub-singleuser"]
    spawner._hold_to_limits()
    command = spawner.cmd
    assert command[0].endswith("systemd-run") and command[1:3] == ["--scope", "--quiet"]
    assert command[3].startswith("--unit=course-hub-ada-") and command[4] == "--uid=ada"
    assert command[5:] == ["-p", f"MemoryMax={2**30}", "-p", "MemorySwapMax=0",
                           "-p", "TasksMax=512", "-p", "CPUQuota=50%", "--",
                           "/env/bin/jupyterhub-singleuser"]
    assert spawner._group is None and spawner._scope
