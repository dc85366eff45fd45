"""Pebble, Let's Encrypt's own test ACME server, on 127.0.0.1 for one test.

Debian's ``pebble`` ships no test certificate for its own HTTPS, so a throw-away CA
(:func:`helpers.tls.make_test_certificates`) signs one for 127.0.0.1; ACME clients trust
that CA for their run alone. ``pebble-challtestsrv`` answers pebble's DNS questions with
127.0.0.1 for every name, so the http-01 check really connects to this machine, on the
port the test chose. Both are stopped by their process ids.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from helpers.tls import make_test_certificates


@dataclass(frozen=True)
class Pebble:
    """A running pebble: where to ask, whom to trust, where its checks arrive."""

    directory: str  # the ACME directory URL
    ca_bundle: Path  # the CA of pebble's own HTTPS (not of the certificates it issues)
    management: str  # https://127.0.0.1:PORT of its management interface
    http_port: int  # the port its http-01 checks connect to

    def fetch(self, path: str) -> str:
        """A PEM from the management interface, e.g. ``/roots/0``, ``/intermediates/0``."""
        context = ssl.create_default_context(cafile=str(self.ca_bundle))
        with urllib.request.urlopen(self.management + path, context=context,
                                    timeout=10) as answer:
            return answer.read().decode()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def available() -> bool:
    """Whether Debian's pebble and pebble-challtestsrv are installed."""
    return bool(shutil.which("pebble") and shutil.which("pebble-challtestsrv"))


@contextmanager
def running_pebble(folder: Path, http_port: int | None = None):
    """Start pebble (and its DNS) in ``folder``; yield a :class:`Pebble`; stop both."""
    folder.mkdir(parents=True, exist_ok=True)
    tls = make_test_certificates(folder / "pebble-https")
    listen, management, dns, dns_management = (free_port() for _ in range(4))
    http_port = http_port or free_port()
    config = folder / "pebble-config.json"
    config.write_text(json.dumps({"pebble": {
        "listenAddress": f"127.0.0.1:{listen}",
        "managementListenAddress": f"127.0.0.1:{management}",
        "certificate": str(tls.certificate), "privateKey": str(tls.key),
        "httpPort": http_port, "tlsPort": free_port(), "ocspResponderURL": "",
        "externalAccountBindingRequired": False}}))
    processes = []
    try:
        with open(folder / "challtestsrv.log", "wb") as log:
            processes.append(subprocess.Popen(
                ["pebble-challtestsrv", "-dns01", f"127.0.0.1:{dns}", "-http01", "",
                 "-https01", "", "-tlsalpn01", "", "-defaultIPv6", "",
                 "-management", f"127.0.0.1:{dns_management}"],
                stdout=log, stderr=subprocess.STDOUT))
        # No sleeps before checks, and no good nonce refused: a quick, repeatable test.
        # PEBBLE_VA_ALWAYS_VALID stays unset: each check really fetches its answer.
        environment = {**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0",
                       "PEBBLE_AUTHZREUSE": "0"}
        environment.pop("PEBBLE_VA_ALWAYS_VALID", None)
        with open(folder / "pebble.log", "wb") as log:
            processes.append(subprocess.Popen(
                ["pebble", "-config", str(config), "-dnsserver", f"127.0.0.1:{dns}"],
                stdout=log, stderr=subprocess.STDOUT, env=environment))
        pebble = Pebble(f"https://127.0.0.1:{listen}/dir", tls.ca,
                        f"https://127.0.0.1:{management}", http_port)
        deadline = time.monotonic() + 20
        while True:
            try:
                pebble.fetch("/roots/0")
                break
            except OSError:
                if time.monotonic() > deadline or any(p.poll() is not None
                                                      for p in processes):
                    raise RuntimeError("pebble did not start: "
                                       + (folder / "pebble.log").read_text()) from None
                time.sleep(0.2)
        yield pebble
    finally:
        for process in processes:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
