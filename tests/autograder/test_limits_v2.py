"""Does grading hold each sandbox to its limits on cgroup v2, where the kernel enables a
controller for child groups only while their parent holds no process?

This host has cgroup v1 for memory, cpu and pids, so these tests use the modelled tree of
:mod:`helpers.fake_cgroup2` (its rules: EBUSY for a controller enabled beside processes,
ENOENT for one not delegated, limit files only for enabled controllers).
"""

from __future__ import annotations

import pytest
from helpers.fake_cgroup2 import FakeCgroup2, install

from course_lib.autograder import limits
from course_lib.autograder.limits import GRADER_LEAF, ControlGroup, Limits


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A cgroup v2 tree with memory, cpu and pids delegated down to a teacher's session."""
    tree = FakeCgroup2(tmp_path / "cgroup")
    (tree.root / "cgroup.subtree_control").write_text("memory cpu pids")
    (tree.group("user.slice") / "cgroup.subtree_control").write_text("memory cpu pids")
    install(monkeypatch, tree)
    return tree


def test_the_grader_moves_into_its_leaf_and_limits_each_sandbox(tree, monkeypatch):
    """Are the grader's processes (and the shell that started it) moved into
    <group>/course-grader, and does each sandbox's group beside it get its memory, swap,
    process and CPU limits, also for the next sandbox?"""
    own = tree.group("user.slice/session-3.scope", pids=[4001, 4002])
    monkeypatch.setattr(limits, "own_v2_group", lambda root: own)
    group = ControlGroup.create(Limits(memory_mb=512, processes=64), cpu_cores=1.5)
    assert group is not None and group.folders[0].parent == own
    assert tree.pids(own) == [] and tree.pids(own / GRADER_LEAF) == ["4001", "4002"]
    folder = group.folders[0]
    assert (folder / "memory.max").read_text() == str(512 * 1024 * 1024)
    assert (folder / "memory.swap.max").read_text() == "0"
    assert (folder / "pids.max").read_text() == "64"
    assert (folder / "cpu.max").read_text() == "150000 100000"
    # The next sandbox: the grader now sits in its leaf, the controllers are enabled.
    monkeypatch.setattr(limits, "own_v2_group", lambda root: own / GRADER_LEAF)
    second = ControlGroup.create(Limits(processes=32))
    assert second is not None and second.folders[0].parent == own
    assert (second.folders[0] / "pids.max").read_text() == "32"


def test_without_delegated_controllers_grading_falls_back_and_says_why(tree, monkeypatch):
    """Where memory and pids are not delegated to the grader's group, is no group made
    (the grader then uses rlimits, or refuses to grade as root), and does the reason name
    the missing controllers?"""
    own = tree.group("system.slice/cron.service", pids=[77])
    (tree.root / "system.slice" / "cgroup.controllers").write_text("cpu")
    (own / "cgroup.controllers").write_text("")
    monkeypatch.setattr(limits, "own_v2_group", lambda root: own)
    assert ControlGroup.create(Limits()) is None
    assert tree.pids(own) == ["77"]  # nothing moved when nothing can be enabled
    with pytest.raises(limits.NoControllers, match="lacks the memory and pids controllers"):
        limits.prepare_v2(tree.root, own, ("memory", "pids"), GRADER_LEAF)
