"""Does the classroom server cap each student's disk where the file system has user
quotas, and say plainly where it has none? A real ext4 file system on a loop device, a
real account made by the course's account code writing as itself."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from helpers.accounts import SYSTEM_PATH, as_account
from helpers.hub_accounts import course_accounts
from helpers.loop_fs import mounted_ext4

from course_lib.teacher import hub_disk


def _move_home(account: str, mount: Path) -> Path:
    """Give ``account`` a home on ``mount`` (the file system under test)."""
    home = mount / account
    subprocess.run([shutil.which("usermod", path=SYSTEM_PATH), "--home", str(home),
                    "--move-home", account], check=True, capture_output=True)
    return home


def test_no_quotas_means_a_plain_no_disk_cap(tmp_path):
    """On a file system without user quotas, do `course hub` and its status say that no
    disk cap is in force, and how to turn quotas on?"""
    with mounted_ext4(tmp_path) as mount, course_accounts("s") as made:
        student = made["s"][0]
        _move_home(student, mount)
        said = []
        hub_disk.apply_caps([student], 500, [], report=said.append)
        fs = hub_disk.file_system_of(mount)
        assert fs.kind == "ext4" and fs.device.startswith("/dev/loop")
        assert said == [f"NO disk cap on {mount} (ext4, {fs.device}): user quotas are off "
                        "there, so one student can fill it for the class. To turn them on: "
                        f"{hub_disk.how_to_turn_on(fs)}."]
        assert "usrquota" in said[0] and "quotaon -u" in said[0]
        lines = hub_disk.status_lines([student], 500)
        assert lines[0] == "disk per student: 500 MB"
        assert lines[1] == f"  {student}: NO disk cap (user quotas are off on {mount}, ext4)"
        assert lines[2].startswith(f"  to turn quotas on for {mount}: ")


def test_a_student_cannot_write_past_the_cap(tmp_path):
    """With user quotas on, does the cap `course hub --disk-mb` sets stop a student's
    writes with "Disk quota exceeded", and does the status say it is in force?"""
    with mounted_ext4(tmp_path, options="usrquota") as mount, \
            course_accounts("s") as made:
        student = made["s"][0]
        _move_home(student, mount)
        for command in (["quotacheck", "-cum", str(mount)], ["quotaon", "-u", str(mount)]):
            done = subprocess.run([shutil.which(command[0], path=SYSTEM_PATH) or command[0],
                                   *command[1:]], capture_output=True, text=True)
            if done.returncode != 0:
                pytest.skip(f"user quotas cannot be turned on here: `{' '.join(command)}`: "
                            f"{done.stderr.strip()}")
        try:
            hub_disk.apply_caps([student], 2, [], report=lambda _message: None)
            fs = hub_disk.file_system_of(mount)
            assert hub_disk.cap_of(student, fs)[1] == 2 * 1024
            written = as_account(student, "dd", "if=/dev/zero", f"of={mount / student}/big",
                                 "bs=1M", "count=4")
            assert written.returncode != 0
            assert "Disk quota exceeded" in written.stderr
            assert "disk cap in force" in hub_disk.describe(student, 2)
        finally:
            subprocess.run([shutil.which("quotaoff", path=SYSTEM_PATH), "-u", str(mount)],
                           check=False, capture_output=True)
