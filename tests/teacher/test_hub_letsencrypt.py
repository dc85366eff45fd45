"""Does `course hub --letsencrypt` get a real certificate through certbot's http-01 check,
install it for the hub with a private key, renew it, and say plainly what went wrong when
the check cannot be answered, the port is taken, the ACME server is out of reach or the
rate limit is hit? The certificates come from Debian's pebble, Let's Encrypt's own test
server, on 127.0.0.1; no check is skipped (PEBBLE_VA_ALWAYS_VALID is never set)."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from dataclasses import asdict
from pathlib import Path

import pytest
from helpers import pebble as pebble_server
from helpers.pebble import free_port, running_pebble

from course_lib.teacher import hub, hub_certificate
from course_lib.teacher.course import CourseError
from course_lib.teacher.hub_certificate import AcmeRequest

HOST = "classroom.school.test"
needs_pebble = pytest.mark.skipif(not pebble_server.available(),
                                  reason="needs Debian's pebble (apt install pebble)")


@pytest.fixture
def state(tmp_path):
    """An empty state folder, as `course hub` makes it."""
    folder = tmp_path / "state"
    folder.mkdir(mode=0o711)
    return folder


@pytest.fixture
def acme(tmp_path, monkeypatch):
    """A running pebble whose HTTPS certbot trusts for this test alone."""
    with running_pebble(tmp_path / "pebble") as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_bundle))
        yield server


def _request(server, http_port: int | None = None) -> AcmeRequest:
    return AcmeRequest(HOST, "teacher@school.test", server.directory,
                       http_port=http_port or server.http_port, http_address="127.0.0.1")


def _write_hub_settings(state: Path, certificate: Path, key: Path) -> None:
    """The hub.json `course hub` writes, with this certificate (no hub runs)."""
    settings = hub.HubSettings(
        course_dir="/nowhere", teacher="teacher", students=[], created_accounts=[],
        ip="127.0.0.1", port=8443, student_python="", teacher_python="",
        student_jupyter_config="", teacher_jupyter_config="", limits={},
        certificate=str(certificate), key=str(key))
    hub.write_private(state / "hub.json", json.dumps(asdict(settings)))


def _handshake(certificate: Path, key: Path, root_pem: str) -> dict:
    """The certificate a client trusting ``root_pem`` sees from a TLS server that uses
    ``certificate`` and ``key`` on 127.0.0.1, for the name HOST."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(certificate, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    problems = []

    def serve():
        connection, _ = listener.accept()
        try:
            with server_context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)
        except (OSError, ssl.SSLError) as error:
            problems.append(error)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_context = ssl.create_default_context(cadata=root_pem)  # pebble's root alone
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                client_context.wrap_socket(raw, server_hostname=HOST) as tls:
            seen = tls.getpeercert()
            tls.sendall(b"x")
    finally:
        thread.join(timeout=10)
        listener.close()
    assert not problems, problems
    return seen


@pytest.mark.slow
@needs_pebble
def test_certificate_from_pebble_is_installed_served_and_renewed(state, acme):
    """Does the route `course hub --letsencrypt` takes get a certificate for the name,
    issued by pebble's intermediate after a real http-01 check, install it with a key only
    root reads, serve a TLS handshake a client trusting pebble's root accepts, ask nothing
    again while it is valid, and renew it on demand?"""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    request = _request(acme)
    certificate, key = hub_certificate.choose_certificate(state, request, None, None)

    assert (certificate, key) == (state / "tls" / "certificate.pem", state / "tls" / "key.pem")
    issued = x509.load_pem_x509_certificate(certificate.read_bytes())
    names = issued.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert names == [HOST]
    common = issued.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert all(attribute.value == HOST for attribute in common)
    intermediate = x509.load_pem_x509_certificate(acme.fetch("/intermediates/0").encode())
    assert issued.issuer == intermediate.subject
    assert "Pebble Intermediate CA" in issued.issuer.rfc4514_string()
    assert key.stat().st_mode & 0o777 == 0o600
    assert (state / "tls").stat().st_mode & 0o777 == 0o700
    assert (state / "letsencrypt").stat().st_mode & 0o777 == 0o700
    assert hub_certificate.saved_request(state) == request

    seen = _handshake(certificate, key, acme.fetch("/roots/0"))
    assert ("DNS", HOST) in seen["subjectAltName"]

    # Run again: the certificate is still good, so nothing is asked of the ACME server.
    again = hub_certificate.choose_certificate(state, request, None, None)
    assert again == (certificate, key)
    assert x509.load_pem_x509_certificate(certificate.read_bytes()).serial_number \
        == issued.serial_number

    _write_hub_settings(state, certificate, key)
    told = []
    assert hub_certificate.renew_certificate(state, report=told.append) is False
    assert "not due for renewal" in told[-1]
    assert hub_certificate.renew_certificate(state, force=True, report=told.append) is True
    renewed = x509.load_pem_x509_certificate(certificate.read_bytes())
    assert renewed.serial_number != issued.serial_number
    assert renewed.issuer == intermediate.subject
    assert key.stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
@needs_pebble
def test_unanswered_check_says_so_and_installs_nothing(state, acme):
    """When the check cannot be answered (certbot answers on another port than the one the
    ACME server asks), does the teacher read that the server could not be checked, on
    which port, and what to do, with no certificate installed?"""
    elsewhere = free_port()
    with pytest.raises(CourseError) as refused:
        hub_certificate.choose_certificate(state, _request(acme, elsewhere), None, None)

    message = str(refused.value)
    assert f"could not check that this server answers for {HOST}" in message
    assert "connection refused" in message
    assert f"port {elsewhere} is open to the internet" in message
    assert "Nothing was installed" in message
    assert not (state / "tls").exists()
    assert hub_certificate.saved_request(state) is None


def test_busy_port_is_refused_before_asking(state):
    """Is a check port another program holds refused up front, naming the port and how
    to find and stop that program, with nothing asked and nothing installed?"""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        request = AcmeRequest(HOST, "teacher@school.test", "https://127.0.0.1:9/dir",
                              http_port=port, http_address="127.0.0.1")
        with pytest.raises(CourseError) as refused:
            hub_certificate.choose_certificate(state, request, None, None)
    message = str(refused.value)
    assert f"another program already uses that port (127.0.0.1, port {port})" in message
    assert f"ss -ltnp 'sport = :{port}'" in message and "course hub stop" in message
    assert not (state / "tls").exists()
    assert not (state / "letsencrypt" / "logs" / "letsencrypt.log").exists()


def test_unreachable_acme_server_is_named(state):
    """With no ACME server to reach (no network), does the teacher read which server could
    not be reached and what to check, with nothing installed?"""
    directory = f"https://127.0.0.1:{free_port()}/dir"
    request = AcmeRequest(HOST, "teacher@school.test", directory, http_port=free_port(),
                          http_address="127.0.0.1")
    with pytest.raises(CourseError) as refused:
        hub_certificate.choose_certificate(state, request, None, None)
    message = str(refused.value)
    assert f"Could not reach the ACME server {directory}" in message
    assert "Connection refused" in message and "proxy or firewall" in message
    assert not (state / "tls").exists()


def test_rate_limit_and_dns_answers_are_explained(tmp_path):
    """Are Let's Encrypt's rate-limit and DNS answers (as certbot prints them) turned into
    what happened and what to do?"""
    request = AcmeRequest(HOST, "teacher@school.test")
    limited = hub_certificate._explain(
        "An unexpected error occurred:\nError creating new order :: too many certificates "
        "(5) already issued for this exact set of identifiers in the last 168h0m0s, retry "
        "after 2026-12-08 10:00:00 UTC: see https://letsencrypt.org/docs/rate-limits/",
        request, tmp_path)
    assert "reached that limit" in limited and "retry after 2026-12-08" in limited
    assert "Do not retry in a loop" in limited
    unknown = hub_certificate._explain(
        "  Identifier: classroom.school.test\n  Type:   dns\n  Detail: DNS problem: "
        "NXDOMAIN looking up A for classroom.school.test", request, tmp_path)
    assert f"expected the name {HOST} to point at this server" in unknown
    assert "NXDOMAIN looking up A" in unknown and "not found in DNS either" in unknown


def test_options_are_checked():
    """Are an address instead of a name, a missing e-mail and stray ACME options refused
    with what to give instead, and is the default ACME server Let's Encrypt's?"""
    with pytest.raises(CourseError, match="Let's Encrypt certifies names only"):
        hub_certificate.request_from_options("192.0.2.7", "t@school.test", None)
    with pytest.raises(CourseError, match="also needs --acme-email"):
        hub_certificate.request_from_options(HOST, None, None)
    with pytest.raises(CourseError, match="go with --letsencrypt"):
        hub_certificate.request_from_options(None, "t@school.test", None)
    with pytest.raises(CourseError, match="full public name"):
        hub_certificate.request_from_options("classroom", "t@school.test", None)
    request = hub_certificate.request_from_options("Classroom.School.Test.", "t@school.test",
                                                   None)
    assert request.host == HOST
    assert request.directory == "https://acme-v02.api.letsencrypt.org/directory"
    assert request.http_port == 80


def test_renewal_refused_for_the_schools_certificate(state, tmp_path):
    """Does `course hub renew-certificate` on a hub with the school's certificate say that
    there is nothing to renew and what to do instead?"""
    _write_hub_settings(state, tmp_path / "school.pem", tmp_path / "school.key")
    with pytest.raises(CourseError, match="nothing to renew here: give the school's renewed files"):
        hub_certificate.renew_certificate(state)
