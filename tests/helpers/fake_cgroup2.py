"""A cgroup v2 tree in a temporary folder that refuses what the kernel refuses.

For hosts without a cgroup v2 hierarchy that has the memory, cpu and pids controllers. It
models the rules the classroom's spawner must follow:

* a controller can be enabled in a group's ``cgroup.subtree_control`` only if it is in
  that group's ``cgroup.controllers`` (else ENOENT), and, below the root, only while the
  group holds no process (the "no internal processes" rule: EBUSY);
* a process cannot join a group below the root that has controllers enabled for its
  children (EBUSY);
* a new group gets ``cgroup.controllers`` from its parent's ``cgroup.subtree_control``
  and only the limit files of those controllers; a missing file cannot be created.

:func:`install` puts it in place of the file access of :mod:`course_lib.teacher.hub_cgroup`
and :mod:`course_lib.autograder.limits`.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

LIMIT_FILES = {"memory": {"memory.max": "max", "memory.swap.max": "max"},
               "cpu": {"cpu.max": "max 100000"}, "pids": {"pids.max": "max"}}


class FakeCgroup2:
    """The tree's root and its rules."""

    def __init__(self, root: Path, controllers: tuple[str, ...] = ("memory", "cpu", "pids")):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "cgroup.controllers").write_text(" ".join(controllers))
        (root / "cgroup.subtree_control").write_text("")
        (root / "cgroup.procs").write_text("")

    def mkdir(self, path: Path) -> None:
        """Make a group as the kernel would (its limit files by the parent's settings)."""
        if path.is_dir():
            return
        path.mkdir()
        enabled = (path.parent / "cgroup.subtree_control").read_text().split()
        (path / "cgroup.controllers").write_text(" ".join(enabled))
        (path / "cgroup.subtree_control").write_text("")
        (path / "cgroup.procs").write_text("")
        for controller in enabled:
            for name, value in LIMIT_FILES.get(controller, {}).items():
                (path / name).write_text(value)

    def group(self, relative: str, pids: list[int] = ()) -> Path:
        """Make the groups on ``relative``'s way and put ``pids`` in the last one."""
        path = self.root
        for part in Path(relative).parts:
            path = path / part
            self.mkdir(path)
        (path / "cgroup.procs").write_text("\n".join(map(str, pids)))
        return path

    def write(self, path: Path, value: str) -> None:
        """Write a file of the tree, refusing as the kernel does."""
        folder = path.parent
        if path.name == "cgroup.subtree_control":
            enabled = set(path.read_text().split())
            for word in value.split():
                name = word[1:]
                if word[0] == "+":
                    if name not in (folder / "cgroup.controllers").read_text().split():
                        raise OSError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
                    if folder != self.root and self.pids(folder):
                        raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(path))
                    enabled.add(name)
                else:
                    enabled.discard(name)
            path.write_text(" ".join(sorted(enabled)))
        elif path.name == "cgroup.procs":
            if folder != self.root and (folder / "cgroup.subtree_control").read_text().split():
                raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(path))
            for procs in self.root.rglob("cgroup.procs"):
                procs.write_text("\n".join(p for p in procs.read_text().split()
                                           if p != value.strip()))
            path.write_text("\n".join([*self.pids(folder), value.strip()]))
        elif not path.is_file():
            raise OSError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
        else:
            path.write_text(value)

    def pids(self, folder: Path) -> list[str]:
        """The processes in the group ``folder``."""
        return (folder / "cgroup.procs").read_text().split()


def install(monkeypatch, tree: FakeCgroup2) -> None:
    """Let :mod:`course_lib.teacher.hub_cgroup` and the grader's
    :mod:`course_lib.autograder.limits` see ``tree`` instead of the kernel's."""
    from course_lib.autograder import limits
    from course_lib.teacher import hub_cgroup

    for module in (hub_cgroup, limits):
        monkeypatch.setattr(module, "CGROUP_ROOT", tree.root)
        monkeypatch.setattr(module, "_write", tree.write)
        monkeypatch.setattr(module, "_mkdir", tree.mkdir)
