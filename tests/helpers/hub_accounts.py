"""Throw-away accounts made by the classroom server's own account code (root only)."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from contextlib import contextmanager

from course_lib.teacher.hub_accounts import Member, ensure_account
from helpers.accounts import SYSTEM_PATH, require_root


@contextmanager
def course_accounts(*roles: str):
    """Accounts made as `course hub` makes them (home, password): ``{role: (name,
    password)}``; removed, homes included, at the end, whatever happened."""
    require_root()
    made = {}
    try:
        for role in roles:
            name = f"t{secrets.token_hex(3)}{role}"
            made[role] = (name, ensure_account(Member(name, f"Test {role}")))
        yield made
    finally:
        for name, _ in made.values():
            subprocess.run([shutil.which("pkill", path=SYSTEM_PATH), "-KILL", "-u", name],
                           check=False, capture_output=True)
            subprocess.run([shutil.which("userdel", path=SYSTEM_PATH), "--remove", name],
                           check=False, capture_output=True)
