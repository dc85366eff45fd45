"""Whether a student's server on the classroom server runs within the per-student limits.

The spawner (:mod:`course_lib.teacher.hub_spawner`) puts each student's server in a
control group with the memory and CPU limits before it starts. Where the kernel does not
let it (cgroup v2 without the controllers delegated to the hub's group, no cgroup
writable at all), the group lacks the limit files and the server would run without
limits; this module reads what is really in force for a running process, from
``/proc/PID/cgroup`` and the group's own files, so that the spawner's log and ``course hub
status`` can say so for each student.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
SERVER_COMMAND = "jupyterhub-singleuser"


@dataclass(frozen=True)
class InForce:
    """The limits a process runs within: memory in MB and cores (None: no limit)."""

    memory_mb: float | None
    cpu_cores: float | None

    def holds(self, memory_mb: int, cpu_cores: float) -> bool:
        """Whether these are at least as strict as ``memory_mb`` and ``cpu_cores``."""
        return (self.memory_mb is not None and self.memory_mb <= memory_mb
                and self.cpu_cores is not None and self.cpu_cores <= cpu_cores + 1e-6)


def limits_of(pid: int) -> InForce:
    """The memory and CPU limits of the control group process ``pid`` is in."""
    groups = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            groups[controller] = path.lstrip("/")
    if (CGROUP_ROOT / "cgroup.controllers").is_file():  # cgroup v2: one tree
        folder = CGROUP_ROOT / groups.get("", "")
        memory = _number(folder / "memory.max")
        cpu = _v2_cores(folder / "cpu.max")
    else:
        memory = _number(CGROUP_ROOT / "memory" / groups.get("memory", "") /
                         "memory.limit_in_bytes")
        cpu_folder = CGROUP_ROOT / "cpu" / groups.get("cpu", "")
        quota, period = (_number(cpu_folder / "cpu.cfs_quota_us"),
                         _number(cpu_folder / "cpu.cfs_period_us"))
        cpu = quota / period if quota and period and quota > 0 else None
    # cgroup v1 writes "no limit" as a huge number (about 2**63).
    memory_mb = memory / 2**20 if memory is not None and memory < 2**60 else None
    return InForce(memory_mb, cpu)


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


def server_processes(account: str) -> list[int]:
    """The processes of ``account`` that are its JupyterHub server (normally one)."""
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
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # ended meanwhile
        if any(os.path.basename(part.decode(errors="replace")) == SERVER_COMMAND
               for part in command[:2]):
            found.append(int(entry.name))
    return sorted(found)


def describe(account: str, memory_mb: int, cpu_cores: float) -> str:
    """One line for ``course hub status``: is ``account``'s server within its limits?"""
    processes = server_processes(account)
    if not processes:
        return f"{account}: no server running"
    try:
        limits = limits_of(processes[0])
    except OSError:
        return f"{account}: no server running"
    if limits.holds(memory_mb, cpu_cores):
        return (f"{account}: limits in force ({limits.memory_mb:,.0f} MB, "
                f"{limits.cpu_cores:g} core(s))")
    missing = [what for what, value in (("memory", limits.memory_mb),
                                        ("CPU", limits.cpu_cores)) if value is None]
    found = f"no {' and no '.join(missing)} limit" if missing else "looser limits"
    return (f"{account}: limits NOT in force ({found}; expected {memory_mb:,} MB and "
            f"{cpu_cores:g} core(s)). This server's "
            "kernel does not let the hub make a control group with them (on cgroup v2 the "
            "hub's group must have the memory and cpu controllers delegated): see the "
            "README's classroom section.")
