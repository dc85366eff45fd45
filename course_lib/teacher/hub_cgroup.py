"""The control group that holds one student's server on the classroom server to its limits.

Three routes, chosen by what the computer runs (:func:`route`):

* **systemd** as the first process: a transient scope made by ``systemd-run --scope`` with
  ``MemoryMax``, ``CPUQuota`` and ``TasksMax`` (:func:`scope_command`); systemd owns the
  control groups there, so asking it is the proper way;
* **cgroup v2** without systemd: the kernel enables a controller for the groups below a
  group only if that group holds no process itself ("no internal processes"). The hub's
  own processes are first moved into a leaf, ``<hub's group>/hub``; then ``+memory +cpu
  +pids`` go into the hub's group's ``cgroup.subtree_control``, and each student's group
  beside the leaf gets ``memory.max``, ``cpu.max`` and ``pids.max``
  (:func:`prepare_v2`);
* **cgroup v1**: a group per student in the memory, cpu and pids hierarchies.

Where the limits cannot be set (controllers not delegated to the hub's group, no writable
cgroup), :class:`NoLimits` says why and what to do: the spawner refuses to start the
student's server unless the admin said limits are optional.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from course_lib.autograder import limits
from course_lib.autograder.limits import CGROUP_ROOT, remove_groups

V2_CONTROLLERS = ("memory", "cpu", "pids")
HUB_LEAF = "hub"  # the hub's own processes, on cgroup v2
V1_FOLDER = "course-hub"  # the students' groups, in each cgroup v1 hierarchy
CPU_PERIOD = 100_000  # microseconds; the quota is cores times this
WHAT_TO_DO = ("Run the hub as root in a control group with the memory, cpu and pids "
              "controllers delegated to it (systemd: Delegate=yes in the hub's service), or "
              "set c.CourseSpawner.limits_required = False in jupyterhub_config.d to let "
              "students work without limits (`course hub status` then says so).")


class NoLimits(Exception):
    """The per-student limits cannot be set on this computer; the message says why."""


@dataclass(frozen=True)
class Limits:
    """One student's server: memory in bytes, cores, processes (None: no such limit)."""

    memory_bytes: int | None
    cpu_cores: float | None
    processes: int | None


class StudentGroup:
    """One student's control group (one folder per hierarchy on cgroup v1)."""

    def __init__(self, folders: list[Path]):
        self.folders = folders

    def enter(self) -> None:
        """Move the calling process (and so everything it starts) into this group."""
        for folder in self.folders:
            _write(folder / "cgroup.procs", str(os.getpid()))

    def remove(self) -> None:
        """Stop what is left in the group and delete it."""
        remove_groups(self.folders, tries=100, pause=0.05)


def route(root: Path | None = None) -> str:
    """How this computer's students get their limits: "systemd", "v2" or "v1"."""
    root = CGROUP_ROOT if root is None else root
    # sd_booted()'s own test: systemd runs the computer if this folder exists.
    if Path("/run/systemd/system").is_dir() and shutil.which("systemd-run"):
        return "systemd"
    return "v2" if (root / "cgroup.controllers").is_file() else "v1"


def scope_command(user: str, limits: Limits, command: list[str], unit: str) -> list[str]:
    """``command`` run as ``user`` in a new systemd scope ``unit`` with ``limits``.

    ``systemd-run --scope`` asks systemd for the scope, enters it, becomes ``user`` and
    then runs ``command`` in its own place (same process id), so it must start as root.
    """
    properties = [f"MemoryMax={limits.memory_bytes or 'infinity'}", "MemorySwapMax=0",
                  f"TasksMax={limits.processes or 'infinity'}"]
    if limits.cpu_cores:
        properties.append(f"CPUQuota={round(limits.cpu_cores * 100)}%")
    options = [option for prop in properties for option in ("-p", prop)]
    return [shutil.which("systemd-run") or "systemd-run", "--scope", "--quiet",
            f"--unit={unit}", f"--uid={user}", *options, "--", *command]


def create(name: str, limits: Limits, root: Path | None = None,
           controllers: tuple[str, ...] = V2_CONTROLLERS, own: Path | None = None
           ) -> StudentGroup:
    """The control group ``name`` with ``limits`` (cgroup v1 or v2, by ``root``); raises
    :class:`NoLimits` if the kernel does not let the hub make it. On cgroup v2 it goes
    beside the hub's own processes (``own``: by default, this process's group)."""
    root = CGROUP_ROOT if root is None else root
    if (root / "cgroup.controllers").is_file():
        return _create_v2(name, limits, prepare_v2(root, own, controllers), controllers)
    return _create_v1(name, limits, root)


def existing(name: str, root: Path | None = None) -> StudentGroup | None:
    """The control group :func:`create` made for ``name``, if it is there (None: none)."""
    root = CGROUP_ROOT if root is None else root
    if (root / "cgroup.controllers").is_file():
        own = _own_v2_group(root)
        base = own.parent if own.name == HUB_LEAF and own != root else own
        folders = [base / f"student-{name}"]
    else:
        folders = [root / c / V1_FOLDER / name for c in ("memory", "pids", "cpu")]
    folders = [folder for folder in folders if folder.is_dir()]
    return StudentGroup(folders) if folders else None


def prepare_v2(root: Path | None = None, own: Path | None = None,
               controllers: tuple[str, ...] = V2_CONTROLLERS) -> Path:
    """The group under which the students' groups go (the hub's own), with ``controllers``
    enabled for its children: the hub's processes moved into its leaf ``hub`` first
    (:func:`course_lib.autograder.limits.prepare_v2`, which the grader uses too).

    ``own`` is the hub's group (by default, this process's). Safe to call again: a hub
    already in its leaf finds the work done.
    """
    root = CGROUP_ROOT if root is None else root
    own = _own_v2_group(root) if own is None else own
    try:
        return limits.prepare_v2(root, own, controllers, HUB_LEAF)
    except limits.NoControllers as error:
        raise NoLimits(f"{error} {WHAT_TO_DO}") from None


def _create_v2(name: str, limits: Limits, base: Path,
               controllers: tuple[str, ...]) -> StudentGroup:
    folder = base / f"student-{name}"
    try:
        _mkdir(folder)
    except OSError as error:
        raise NoLimits(f"The student's control group {folder} cannot be made ({error}). "
                       f"{WHAT_TO_DO}") from None
    group = StudentGroup([folder])
    settings = {"memory.max": str(limits.memory_bytes or "max"),
                "pids.max": str(limits.processes or "max"),
                "cpu.max": (f"{round(limits.cpu_cores * CPU_PERIOD)} {CPU_PERIOD}"
                            if limits.cpu_cores else f"max {CPU_PERIOD}")}
    try:
        for file, value in settings.items():
            if file.partition(".")[0] in controllers:
                _write_existing(folder / file, value)
        if (folder / "memory.swap.max").is_file():
            _write(folder / "memory.swap.max", "0")  # memory past the limit is not swapped
    except NoLimits:
        group.remove()
        raise
    return group


def _create_v1(name: str, limits: Limits, root: Path) -> StudentGroup:
    hierarchies = {c: root / c for c in ("memory", "pids", "cpu")}
    missing = [c for c, folder in hierarchies.items() if not (folder / "cgroup.procs").is_file()]
    if missing:
        raise NoLimits(f"This computer has no cgroup {', '.join(missing)} hierarchy under "
                       f"{root} to hold the students' servers. {WHAT_TO_DO}")
    folders = [folder / V1_FOLDER / name for folder in hierarchies.values()]
    group = StudentGroup(folders)
    try:
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
        memory, pids, cpu = folders
        _write_existing(memory / "memory.limit_in_bytes", str(limits.memory_bytes or -1))
        if (memory / "memory.memsw.limit_in_bytes").is_file():
            _write(memory / "memory.memsw.limit_in_bytes", str(limits.memory_bytes or -1))
        _write_existing(pids / "pids.max", str(limits.processes or "max"))
        _write_existing(cpu / "cpu.cfs_period_us", str(CPU_PERIOD))
        _write_existing(cpu / "cpu.cfs_quota_us", str(
            round(limits.cpu_cores * CPU_PERIOD) if limits.cpu_cores else -1))
    except NoLimits:
        group.remove()
        raise
    except OSError as error:
        group.remove()
        raise NoLimits(f"The student's control groups under {root} cannot be made or "
                       f"limited ({error}). {WHAT_TO_DO}") from None
    return group


def _own_v2_group(root: Path) -> Path:
    return limits.own_v2_group(root)


def _words(path: Path) -> set[str]:
    return limits._words(path)


def _write_existing(path: Path, value: str) -> None:
    # A controller that is not enabled leaves its files out: never create them.
    if not path.is_file():
        raise NoLimits(f"{path} is missing: the {path.name.partition('.')[0]} controller is "
                       f"not enabled for the student's group. {WHAT_TO_DO}")
    _write(path, value)


def _write(path: Path, value: str) -> None:
    """Write one cgroup file (a single write, as the kernel expects)."""
    limits._write(path, value)


def _mkdir(path: Path) -> None:
    limits._mkdir(path)
