"""A small ext4 file system in a file, mounted on a loop device (root only)."""

from __future__ import annotations

import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _tool(name: str) -> str:
    found = shutil.which(name, path=SYSTEM_PATH)
    if found is None:
        pytest.skip(f"needs {name}")
    return found


@contextmanager
def mounted_ext4(folder: Path, size_mb: int = 32, options: str = ""):
    """Make an ext4 image of ``size_mb`` in ``folder``, mount it (``-o loop`` plus
    ``options``) and yield the mount point; unmount it and free the loop device at the
    end, whatever happened. Skips where loop devices cannot be mounted."""
    image, mount = folder / "disk.img", folder / "mnt"
    mount.mkdir(parents=True)
    with image.open("wb") as file:
        file.truncate(size_mb * 2**20)
    subprocess.run([_tool("mkfs.ext4"), "-q", "-F", str(image)], check=True,
                   capture_output=True)
    done = subprocess.run([_tool("mount"), "-o", ",".join(filter(None, ["loop", options])),
                           str(image), str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a loop device here: {done.stderr.strip()}")
    try:
        mount.chmod(0o755)
        yield mount
    finally:
        # A loop device from `mount -o loop` is freed (autoclear) when unmounted.
        subprocess.run([_tool("umount"), str(mount)], check=False, capture_output=True)
        if subprocess.run([_tool("mountpoint"), "-q", str(mount)]).returncode == 0:
            subprocess.run([_tool("umount"), "--lazy", str(mount)], check=False)
        for line in subprocess.run([_tool("losetup"), "-j", str(image)], capture_output=True,
                                   text=True).stdout.splitlines():
            subprocess.run([_tool("losetup"), "-d", line.split(":")[0]], check=False)
