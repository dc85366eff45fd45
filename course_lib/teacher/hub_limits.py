"""The per-student limits of the classroom server: what is configured, and what is in force.

The limits are JupyterHub settings of the spawner
(:class:`~course_lib.teacher.hub_spawner.CourseSpawner`): ``mem_limit``, ``cpu_limit`` and
``process_limit``. ``course hub`` writes :data:`STUDENT_LIMITS` into the generated
``jupyterhub_config.py``; an admin's own ``jupyterhub_config.d/*.py`` in the hub's state
folder is read after it and wins. :func:`configured_limits` reads them the way JupyterHub
does.

The spawner puts each student's server in a control group with those limits before it
starts (:mod:`course_lib.teacher.hub_cgroup`). This module also reads what is really in
force for a running process, from ``/proc/PID/cgroup`` and the group's own files, so that
the spawner's log and ``course hub status`` say so for each student.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from course_lib.autograder.limits import CGROUP_ROOT

SERVER_COMMAND = "jupyterhub-singleuser"
MB = 2**20


@dataclass(frozen=True)
class StudentLimits:
    """What one student's server (JupyterLab and its kernels) may use (None: no limit).

    The defaults are sized from ``benchmarks/classroom_capacity.py`` (the benchmarks page): the
    lesson's kernel, run through with the model solution, peaked at 925 MB on the embedded
    sample and 1,485 MB on full-size data, using 1.2-1.3 cores on average; 2,560 MB leaves
    room for a student's larger tuned network, and at most one core each shares a server
    fairly. An admin changes them in ``jupyterhub_config.d`` (``c.CourseSpawner.mem_limit``
    etc.).
    """

    memory_mb: float | None = 2560
    cpu_cores: float | None = 1.0
    processes: int | None = 512

    def describe(self) -> str:
        """The limits in words."""
        return ", ".join([
            f"{self.memory_mb:,.0f} MB" if self.memory_mb else "no memory limit",
            f"{self.cpu_cores:g} core(s)" if self.cpu_cores else "no CPU limit",
            f"{self.processes} processes" if self.processes else "no process limit"])


STUDENT_LIMITS = StudentLimits()


def config_lines(limits: StudentLimits = STUDENT_LIMITS) -> str:
    """The lines of ``jupyterhub_config.py`` that set the per-student limits."""
    return (f"c.CourseSpawner.mem_limit = '{limits.memory_mb:.0f}M'\n"
            f"c.CourseSpawner.cpu_limit = {float(limits.cpu_cores)!r}\n"
            f"c.CourseSpawner.process_limit = {limits.processes}\n")


def configured_limits(config_file: Path) -> StudentLimits:
    """The per-student limits that ``config_file`` (with the admin's files it loads) gives
    the spawner, read as JupyterHub reads them. Raises ValueError, in words, if the files
    cannot be read."""
    from traitlets.config.loader import PyFileConfigLoader

    from course_lib.teacher.hub_spawner import CourseSpawner

    config_file = Path(config_file)
    try:
        config = PyFileConfigLoader(config_file.name, str(config_file.parent)).load_config()
        return CourseSpawner(config=config).student_limits()
    except Exception as error:  # a mistake in an admin's file: any exception at all
        raise ValueError(f"The hub's settings {config_file} (and jupyterhub_config.d/*.py "
                         f"beside it) cannot be read: {error}. Correct the file that the "
                         "error names; JupyterHub itself would not start with it.") from None


@dataclass(frozen=True)
class InForce:
    """The limits a process runs within: memory in MB, cores, processes (None: no limit)."""

    memory_mb: float | None
    cpu_cores: float | None
    processes: int | None = None

    def holds(self, limits: StudentLimits) -> bool:
        """Whether these are at least as strict as ``limits``."""
        return all(wanted is None or (found is not None and found <= wanted + 1e-6)
                   for found, wanted in ((self.memory_mb, limits.memory_mb),
                                         (self.cpu_cores, limits.cpu_cores),
                                         (self.processes, limits.processes)))

    def nothing(self) -> bool:
        """Whether no limit at all is in force."""
        return self.memory_mb is None and self.cpu_cores is None and self.processes is None


def limits_of(pid: int, root: Path | None = None) -> InForce:
    """The memory, CPU and process limits of the control group process ``pid`` is in."""
    root = CGROUP_ROOT if root is None else root
    groups = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            groups[controller] = path.lstrip("/")
    if (root / "cgroup.controllers").is_file():  # cgroup v2: one tree
        folder = root / groups.get("", "")
        memory = _number(folder / "memory.max")
        cpu = _v2_cores(folder / "cpu.max")
        processes = _number(folder / "pids.max")
    else:
        memory = _number(root / "memory" / groups.get("memory", "") /
                         "memory.limit_in_bytes")
        cpu_folder = root / "cpu" / groups.get("cpu", "")
        quota, period = (_number(cpu_folder / "cpu.cfs_quota_us"),
                         _number(cpu_folder / "cpu.cfs_period_us"))
        cpu = quota / period if quota and period and quota > 0 else None
        processes = _number(root / "pids" / groups.get("pids", "") / "pids.max")
    # cgroup v1 writes "no limit" as a huge number (about 2**63).
    memory_mb = memory / MB if memory is not None and memory < 2**60 else None
    return InForce(memory_mb, cpu, processes)


def _number(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:  # no such file: the controller is not enabled for this group
        return None
    return None if text in ("", "max") else int(text)


def _v2_cores(path: Path) -> float | None:
    try:
        quota, period = path.read_text().split()
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def running_processes(account: str) -> list[int]:
    """The processes of ``account`` that still run, lowest number first.

    An ended process that its parent has not reaped (state Z) runs nothing and is left
    out: where the machine's first process reaps nothing (a container without an init),
    a killed server stays in /proc, under the student's uid, until the machine stops.
    """
    import pwd

    try:
        uid = pwd.getpwnam(account).pw_uid
    except KeyError:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # ended meanwhile
        if state not in ("Z", "X"):
            found.append(int(entry.name))
    return sorted(found)


def server_processes(account: str) -> list[int]:
    """The processes of ``account`` that are its JupyterHub server (normally one)."""
    found = []
    for pid in running_processes(account):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # ended meanwhile
        if any(os.path.basename(part.decode(errors="replace")) == SERVER_COMMAND
               for part in command[:2]):
            found.append(pid)
    return found


def describe(account: str, configured: StudentLimits) -> str:
    """One line for ``course hub status``: is ``account``'s server within ``configured``?"""
    processes = server_processes(account)
    if not processes:
        return f"{account}: no server running"
    try:
        found = limits_of(processes[0])
    except OSError:
        return f"{account}: no server running"
    in_force = StudentLimits(found.memory_mb, found.cpu_cores, found.processes)
    if found.holds(configured):
        return f"{account}: limits in force ({in_force.describe()})"
    if found.nothing():
        return (f"{account}: no limits in force (configured: {configured.describe()}). The "
                "kernel did not let the hub make a control group with them (on cgroup v2 the "
                "memory, cpu and pids controllers must be delegated to the hub's group) and "
                "c.CourseSpawner.limits_required is False: see docs/administrators/"
                "classroom-server.md.")
    return (f"{account}: limits NOT in force ({in_force.describe()}; configured: "
            f"{configured.describe()}). A server started before the limits were changed "
            "keeps its old ones: stop it in the hub's admin page and let the student start "
            "it again.")
