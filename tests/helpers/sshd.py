"""A real, throw-away SSH server on 127.0.0.1 and password logins to it (root only)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from helpers.processes import stop_process

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PRIVILEGE_SEPARATION = Path("/run/sshd")  # Debian's sshd refuses to start without it


def require_ssh_tools() -> None:
    """Skip unless OpenSSH's server and client and sshpass are installed."""
    for tool in ("sshd", "ssh", "ssh-keygen", "sshpass"):
        if shutil.which(tool, path=SYSTEM_PATH) is None:
            pytest.skip(f"needs {tool} (apt install openssh-server sshpass)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_sshd(folder: Path, dropins: Path):
    """An SSH server on 127.0.0.1 with its own host key, password logins through PAM, and
    the drop-ins of ``dropins`` included as the system's server includes its own; yield
    ``(port, log)``, where ``log`` is the server's log file. Stopped by its process id."""
    require_ssh_tools()
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / "host_key"
    subprocess.run([shutil.which("ssh-keygen", path=SYSTEM_PATH), "-q", "-t", "ed25519",
                    "-N", "", "-f", str(key)], check=True, capture_output=True)
    port = _free_port()
    config = folder / "sshd_config"
    config.write_text(f"Include {dropins}/*.conf\nPort {port}\nListenAddress 127.0.0.1\n"
                      f"HostKey {key}\nPidFile none\nUsePAM yes\nPasswordAuthentication "
                      "yes\nKbdInteractiveAuthentication no\nPubkeyAuthentication no\n"
                      "PermitRootLogin no\nLogLevel VERBOSE\n")
    made_folder = not PRIVILEGE_SEPARATION.exists()
    PRIVILEGE_SEPARATION.mkdir(mode=0o755, exist_ok=True)
    log = folder / "sshd.log"
    with log.open("w") as output:
        server = subprocess.Popen([shutil.which("sshd", path=SYSTEM_PATH), "-D", "-e",
                                   "-f", str(config)], stdout=output,
                                  stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"sshd did not start: {log.read_text()}") from None
                time.sleep(0.1)
        yield port, log
    finally:
        stop_process(server, timeout=10)
        if made_folder:
            shutil.rmtree(PRIVILEGE_SEPARATION, ignore_errors=True)


def ssh_login(port: int, account: str, password: str,
              command: str = "id -un") -> subprocess.CompletedProcess:
    """Log in as ``account`` with ``password`` (no keys, no config) and run ``command``."""
    return subprocess.run(
        [shutil.which("sshpass", path=SYSTEM_PATH), "-e",
         shutil.which("ssh", path=SYSTEM_PATH), "-F", "/dev/null", "-p", str(port),
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no",
         "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=10",
         f"{account}@127.0.0.1", command],
        capture_output=True, text=True, check=False, timeout=60,
        env={"PATH": SYSTEM_PATH, "SSHPASS": password, "LANG": "C.UTF-8"})
