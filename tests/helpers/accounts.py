"""Throw-away system accounts for tests that need real owners (run as root on Linux)."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def require_root() -> None:
    """Skip the test unless it runs as root (it makes accounts and chowns files)."""
    if os.geteuid() != 0 or shutil.which("useradd", path=SYSTEM_PATH) is None:
        if os.environ.get("CI"):
            pytest.fail("This test needs root and useradd, as on CI.")
        pytest.skip("needs root (it makes throw-away system accounts)")


@contextmanager
def accounts(*roles: str):
    """Make one system account per role (no home, no login shell) and yield
    ``{role: account name}``; remove them afterwards, whatever happened."""
    require_root()
    made = {}
    try:
        for role in roles:
            name = f"t{secrets.token_hex(3)}-{role}"[:32]
            subprocess.run([shutil.which("useradd", path=SYSTEM_PATH), "--system",
                            "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin",
                            name], check=True, capture_output=True)
            made[role] = name
        yield made
    finally:
        for name in made.values():
            subprocess.run([shutil.which("pkill", path=SYSTEM_PATH) or "pkill", "-KILL", "-u",
                            name], check=False, capture_output=True)
            subprocess.run([shutil.which("userdel", path=SYSTEM_PATH), name], check=False,
                           capture_output=True)


def uid(name: str) -> int:
    return pwd.getpwnam(name).pw_uid


def chown_tree(path: Path, name: str) -> None:
    """Give ``path`` and everything in it (links themselves, not their targets) to ``name``."""
    account = pwd.getpwnam(name)
    for item in [path, *path.rglob("*")]:
        os.chown(item, account.pw_uid, account.pw_gid, follow_symlinks=False)


def as_account(name: str, *command: str, cwd: str = "/") -> subprocess.CompletedProcess:
    """Run ``command`` as the account ``name``."""
    runuser = shutil.which("runuser", path=SYSTEM_PATH) or "runuser"
    return subprocess.run([runuser, "-u", name, "--", *command], capture_output=True,
                          text=True, check=False, cwd=cwd,
                          env={"PATH": SYSTEM_PATH, "LANG": "C.UTF-8", "HOME": "/"})


@contextmanager
def shared_folder():
    """A temporary folder every account can enter (``tmp_path`` is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="course-shared-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
