"""Resource limits for a grading process: memory, processes, file size, temporary space.

Two mechanisms, the stronger where the computer allows it:

* a **control group** (Linux cgroup v1 or v2, writable when grading runs as root or with a
  delegated cgroup): memory (which includes files written to memory-backed folders such as
  the sandbox's ``/tmp`` and working folder) and the number of processes and threads;
* **rlimits** otherwise: the address space stands in for memory, and the process count
  is set inside the sandbox's own user namespace, where Linux counts only that sandbox's
  processes. Linux exempts root's processes from it, so grading as root needs a control
  group (:func:`limits_hold`).

The file-size limit is always an rlimit: a write past it fails with "File too large".

On cgroup v2 the kernel enables a controller for the groups below a group only while that
group holds no process ("no internal processes"): :func:`prepare_v2` first moves the
processes of this process's group into a leaf of it (``course-grader``), then enables the
controllers for the sandboxes' groups beside it. The classroom server's spawner does the
same for the students' servers (:mod:`course_lib.teacher.hub_cgroup`).
"""

from __future__ import annotations

import errno
import os
import resource
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
MB = 1024 * 1024
GRADER_LEAF = "course-grader"  # on cgroup v2, the grader's own processes


@dataclass(frozen=True)
class Limits:
    """What one grading kernel (or checking process) may use."""

    memory_mb: int = 6144  # TensorFlow plus the lesson's training needs about 2 GB
    processes: int = 512  # threads count too; TensorFlow starts a few dozen
    file_size_mb: int = 256  # the largest single file it may write
    tmp_size_mb: int = 1024  # its temporary and working folders (memory-backed)

    def describe(self) -> str:
        """The limits in words, for messages and the grading log."""
        return (f"{self.memory_mb:,} MB of memory, {self.processes} processes/threads, "
                f"files up to {self.file_size_mb:,} MB, {self.tmp_size_mb:,} MB of "
                "temporary space")


class ControlGroup:
    """A throw-away cgroup holding one sandbox; ``None`` from :meth:`create` where unavailable."""

    def __init__(self, folders: list[Path]):
        self.folders = folders

    @classmethod
    def create(cls, limits: Limits, cpu_cores: float | None = None) -> ControlGroup | None:
        """Make a cgroup with the memory and process limits (and, given ``cpu_cores``, a
        share of the CPU), or return None if we may not."""
        name = f"course-grading-{uuid.uuid4().hex[:12]}"
        memory = limits.memory_mb * MB
        period = 100_000  # microseconds; the quota is cores times this
        try:
            if (CGROUP_ROOT / "cgroup.controllers").is_file():  # cgroup v2
                own = own_v2_group(CGROUP_ROOT)
                with_cpu = bool(cpu_cores) and "cpu" in _words(
                    (own.parent if own.name == GRADER_LEAF else own) / "cgroup.controllers")
                base = prepare_v2(CGROUP_ROOT, own, ("memory", "pids", "cpu")[:2 + with_cpu],
                                  GRADER_LEAF)
                folder = base / name
                _mkdir(folder)
                group = cls([folder])
                _write(folder / "memory.max", str(memory))
                if (folder / "memory.swap.max").is_file():
                    _write(folder / "memory.swap.max", "0")
                _write(folder / "pids.max", str(limits.processes))
                if with_cpu:
                    _write(folder / "cpu.max", f"{int(cpu_cores * period)} {period}")
                return group
            memory_root, pids_root = CGROUP_ROOT / "memory", CGROUP_ROOT / "pids"
            cpu_root = CGROUP_ROOT / "cpu"
            if not (memory_root / "cgroup.procs").is_file() or \
                    not (pids_root / "cgroup.procs").is_file():
                return None
            folders = [memory_root / name, pids_root / name]
            if cpu_cores and (cpu_root / "cgroup.procs").is_file():
                folders.append(cpu_root / name)
            group = cls(folders)
            for folder in group.folders:
                folder.mkdir()
            (memory_root / name / "memory.limit_in_bytes").write_text(str(memory))
            swap = memory_root / name / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(str(memory))
            (pids_root / name / "pids.max").write_text(str(limits.processes))
            if cpu_root / name in group.folders:
                (cpu_root / name / "cpu.cfs_period_us").write_text(str(period))
                (cpu_root / name / "cpu.cfs_quota_us").write_text(str(int(cpu_cores * period)))
            return group
        except (OSError, NoControllers):
            if "group" in locals():
                group.remove()
            return None

    def enter(self) -> None:
        """Move the calling process (and so everything it starts) into this cgroup."""
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(str(os.getpid()))

    def out_of_memory(self) -> bool:
        """Did the kernel of this cgroup end a process for using too much memory?"""
        for folder in self.folders:
            for name in ("memory.events", "memory.failcnt", "memory.oom_control"):
                path = folder / name
                if not path.is_file():
                    continue
                text = path.read_text()
                if name == "memory.failcnt" and text.strip() not in ("", "0"):
                    return True
                for line in text.splitlines():
                    key, _, value = line.partition(" ")
                    if key in ("oom_kill", "oom") and value.strip() not in ("", "0"):
                        return True
        return False

    def remove(self) -> None:
        """Stop what is left in the cgroup and delete it."""
        remove_groups(self.folders)


def remove_groups(folders, tries: int = 50, pause: float = 0.0) -> None:
    """Kill every process left in each control group folder, then delete the folders.

    A killed process leaves its group a moment later: the processes are read again up to
    ``tries`` times, ``pause`` seconds apart. What cannot be deleted is left as it is.
    """
    for folder in folders:
        for _ in range(tries):
            try:
                pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
            except OSError:
                break
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            time.sleep(pause)
        try:
            folder.rmdir()
        except OSError:
            pass


class NoControllers(Exception):
    """cgroup v2 does not let groups with the wanted controllers be made here; says why."""


def own_v2_group(root: Path) -> Path:
    """The cgroup v2 group of this process, as a folder under ``root``."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        if line.startswith("0::"):
            return root / line[3:].strip().lstrip("/")
    return root


def prepare_v2(root: Path, own: Path, controllers: tuple[str, ...], leaf: str) -> Path:
    """The group under which limited groups go, with ``controllers`` enabled for them.

    ``own`` is the group of the process that makes them (the grader, the hub). Its
    processes are first moved into ``own/leaf``: below the root, the kernel enables a
    controller for a group's children only while the group holds no process itself. Safe
    to call again: a process already in its leaf finds the work done. Raises
    :class:`NoControllers` with the reason where the kernel does not allow it.
    """
    wanted = set(controllers)
    if own.name == leaf and own != root and wanted <= _words(
            own.parent / "cgroup.subtree_control"):
        return own.parent  # done before, by this process or an earlier one
    if wanted <= _words(own / "cgroup.subtree_control"):
        return own  # the root group, or one an administrator prepared
    missing = sorted(wanted - _words(own / "cgroup.controllers"))
    if missing:
        plural = len(missing) > 1
        raise NoControllers(
            f"The control group {own} lacks the {' and '.join(missing)} "
            f"controller{'s' if plural else ''}: the group above it does not delegate "
            f"{'them' if plural else 'it'}, so no group below it can be held to its limits.")
    if own != root:  # the root group is exempt from the rule
        _move_into_leaf(own, own / leaf)
    try:
        _write(own / "cgroup.subtree_control", " ".join(f"+{c}" for c in controllers))
    except OSError as error:
        why = ("it still holds processes that could not be moved into its leaf "
               f"{own / leaf}" if error.errno == errno.EBUSY else str(error))
        raise NoControllers(f"The kernel refused to enable {', '.join(controllers)} for the "
                            f"groups under {own}: {why}.") from None
    return own


def _move_into_leaf(own: Path, leaf: Path) -> None:
    """Move every process of the group ``own`` into its child group ``leaf``."""
    try:
        _mkdir(leaf)
        for _ in range(20):  # a process may start while the others move
            pids = (own / "cgroup.procs").read_text().split()
            if not pids:
                return
            for pid in pids:
                try:
                    _write(leaf / "cgroup.procs", pid)
                except ProcessLookupError:
                    pass  # ended meanwhile
    except OSError as error:
        raise NoControllers(f"The processes of {own} cannot be moved into {leaf} ({error}), "
                            "which cgroup v2 needs before it limits the groups beside it."
                            ) from None


def _words(path: Path) -> set[str]:
    try:
        return set(path.read_text().split())
    except OSError:
        return set()


def _write(path: Path, value: str) -> None:
    """Write one cgroup file (a single write, as the kernel expects)."""
    with open(path, "w") as file:
        file.write(value)


def _mkdir(path: Path) -> None:
    path.mkdir(exist_ok=True)


def apply_rlimits(limits: Limits, with_group: bool) -> None:
    """Set the rlimits in the calling process (run between fork and exec).

    The process limit is not set here: Linux counts it per account, so one sandbox's
    threads would count against the next. It is set inside, in the sandbox's own user
    namespace, where only that sandbox's processes count
    (:func:`course_lib.autograder.sandbox.main`).
    """
    size = limits.file_size_mb * MB
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    if not with_group:
        memory = limits.memory_mb * MB
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def start_function(limits: Limits, group: ControlGroup | None):
    """The function to run in a child process before it starts the sandbox: join the
    control group and set the limits."""
    def start():
        entered = False
        if group is not None:
            try:
                group.enter()
                entered = True
            except OSError:  # a cgroup we may create but not join: fall back to rlimits
                pass
        apply_rlimits(limits, with_group=entered)
    return start


def root_without_group() -> str | None:
    """Why limits would not hold here, in words; None if they do.

    Linux never applies the process limit to root's processes, even in a user namespace,
    so a sandbox started by root is held only by a control group. Where root cannot make
    one (some containers), a fork bomb would reach the whole computer: say so instead.
    """
    if os.geteuid() != 0:
        return None
    group = ControlGroup.create(Limits())
    if group is None:
        return ("grading runs as root, but no control group can be made here, and Linux "
                "does not limit the processes of root's sandboxes without one. Grade as "
                "an ordinary account (the sandbox then counts each student's processes on "
                "their own), or give grading a writable cgroup")
    group.remove()
    return None
