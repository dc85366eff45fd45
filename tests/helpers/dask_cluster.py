"""A real Dask cluster on the loopback address, started with the commands that
``course cluster certificates`` prints (the venv's ``dask``), and stopped at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from course_lib.teacher import certificates as tls

DASK = str(Path(sys.executable).parent / "dask")


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DaskCluster:
    """``dask scheduler`` as the teacher is told to start it, on 127.0.0.1, and workers."""

    def __init__(self, folder: Path, certificates: tls.Certificates):
        self.folder, self.certificates = Path(folder), certificates
        self.port = free_port()
        command = tls.scheduler_command(certificates, port=self.port)
        protocol = command[command.index("--protocol") + 1] if "--protocol" in command \
            else "tcp"
        command = [DASK, *command[1:], "--host", "127.0.0.1"]
        if "--dashboard-address" in command:  # the printed port may be taken here
            command[command.index("--dashboard-address") + 1] = "127.0.0.1:0"
        self.address = f"{protocol}://127.0.0.1:{self.port}"
        self.processes = [self._start(command, "scheduler")]
        self._wait_for_port()

    def start_worker(self, name: str, command: list[str] | None = None) -> subprocess.Popen:
        """A worker started as a grading machine is told to (or with ``command``), in the
        certificate folder, as if the worker folder had been copied there."""
        command = command or tls.worker_command(self.address)
        command = [DASK, *command[1:], "--name", name,
                   "--local-directory", str(self.folder / name)]
        process = self._start(command, name)
        self.processes.append(process)
        return process

    def client(self):
        """A client with the course's certificates (plain if the scheduler is plain)."""
        from distributed import Client

        security = tls.client_security(self.certificates) \
            if self.address.startswith("tls://") else None
        return Client(self.address, timeout="60s", security=security)

    def worker_names(self) -> list[str]:
        """The names of the workers that joined."""
        with self.client() as client:
            return sorted(w["name"] for w in client.scheduler_info()["workers"].values())

    def wait_for_workers(self, count: int, timeout: float = 120) -> None:
        with self.client() as client:
            client.wait_for_workers(count, timeout=timeout)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log(self, name: str) -> str:
        """What a process of the cluster wrote."""
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def _start(self, command: list[str], name: str) -> subprocess.Popen:
        with open(self.folder / f"{name}.log", "wb") as log:
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=self.certificates.folder, start_new_session=True)

    def _wait_for_port(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[0].poll() is not None:
                raise RuntimeError("dask scheduler stopped:\n" + self.log("scheduler"))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("dask scheduler did not start:\n" + self.log("scheduler"))
