"""A throw-away PostgreSQL server for tests: Debian's binaries, a temporary data folder,
a free port on the loopback address; stopped (and its data gone) when the test is done."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL programs (``initdb``, ``pg_ctl``), if installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    return Path(which).parent if which else None


class PostgresServer:
    """Start with ``PostgresServer()``; ``url`` is a fresh database; ``stop()`` ends it and
    removes its folder (its own temporary folder: the server's user must reach it)."""

    def __init__(self, database: str = "gradebook"):
        self.bin, self.folder = postgres_bin(), Path(tempfile.mkdtemp(prefix="course-pg-"))
        self.data = self.folder / "pgdata"
        self.data.mkdir()
        # PostgreSQL refuses to run as root: as root, the server runs as Debian's postgres.
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.prefix:
            shutil.chown(self.folder, "postgres")
            shutil.chown(self.data, "postgres")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w",
                  "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
                  "start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  database)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *arguments: str) -> None:
        subprocess.run([*self.prefix, str(self.bin / program), *arguments], check=True,
                       capture_output=True, timeout=120, cwd=self.folder)

    def stop(self) -> None:
        """Stop the server at once and remove its data."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
