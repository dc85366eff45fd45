"""Helpers for the tests that drive a real browser: Debian's Chromium and a Jupyter server
on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from helpers.processes import stop_process

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]


def require_chromium() -> str:
    """Debian's Chromium; skip the test without it (fail on CI, which installs it)."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing; .ci/run installs Debian's chromium package")
        pytest.skip("needs Debian's chromium (apt install chromium)")
    return CHROMIUM


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def jupyter_server(root: Path, token: str, settings: Path, seconds: float = 90):
    """A Jupyter server (with the extensions installed in this environment, nbgrader's
    Formgrader among them) serving ``root`` and started in it, on 127.0.0.1; yields its
    URL. Its own settings folder is ``settings``, where its log goes too."""
    settings.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environment = {**os.environ, "JUPYTER_CONFIG_DIR": str(settings),
                   "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                            os.environ.get("PATH", "")])}
    with open(settings / "server.log", "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "server", "--no-browser", f"--port={port}",
             "--ip=127.0.0.1", f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
             "--allow-root"],
            cwd=root, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + seconds
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"The Jupyter server did not start within {seconds} s: "
                                       f"see {settings / 'server.log'}") from None
                time.sleep(0.5)
        yield url
    finally:
        stop_process(server, timeout=30)
