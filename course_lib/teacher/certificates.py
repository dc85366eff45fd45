"""The grading cluster's certificates: only the teacher's machines can join it.

Dask's scheduler, its workers and ``course autograde`` speak mutual TLS: each side shows a
certificate signed by a certificate authority made for this course alone, and refuses a
peer that cannot. :func:`make_certificates` makes that authority and a certificate with
its private key for the scheduler, for the workers (one set, copied to every grading
machine) and for the client (``course autograde``). The authority's own key is never
written down, so nobody can sign another certificate later: a new set replaces the whole
folder. :func:`scheduler_command` and :func:`worker_command` are the Dask commands that use
them; :func:`client_security` is what ``course autograde`` connects with.
"""

from __future__ import annotations

import datetime
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from course_lib.teacher.course import CourseError

FOLDER = "cluster-certificates"  # in the course folder, unless told otherwise
WORKER_FOLDER = "worker"  # inside it: all that a grading machine needs
VALID_DAYS = 3 * 365
PORT = 8786


@dataclass(frozen=True)
class Certificates:
    """Where each file of a course's certificate set is."""

    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def scheduler(self) -> tuple[Path, Path]:
        return self.folder / "scheduler.pem", self.folder / "scheduler-key.pem"

    @property
    def client(self) -> tuple[Path, Path]:
        return self.folder / "client.pem", self.folder / "client-key.pem"

    @property
    def worker_folder(self) -> Path:
        return self.folder / WORKER_FOLDER

    @property
    def worker(self) -> tuple[Path, Path, Path]:
        """The CA, certificate and key a worker shows (a copy of the CA goes with them)."""
        return (self.worker_folder / "ca.pem", self.worker_folder / "worker.pem",
                self.worker_folder / "worker-key.pem")

    def files(self) -> list[Path]:
        return [self.ca, *self.scheduler, *self.client, *self.worker]

    def missing(self) -> list[Path]:
        """The files of the set that are not there."""
        return [path for path in self.files() if not path.is_file()]


def default_folder(course_dir: Path) -> Path:
    """The course's certificate folder."""
    return Path(course_dir) / FOLDER


def make_certificates(folder: Path) -> tuple[Certificates, bool]:
    """The certificate set in ``folder``, made if it is not there; ``True`` if made now.

    A complete set is kept as it is (the grading machines hold copies of it). A partial
    one is not completed: its authority's key is gone, so the teacher is told to remove it.
    """
    certificates = Certificates(Path(folder).resolve())
    missing = certificates.missing()
    if not missing:
        return certificates, False
    present = [path for path in certificates.files() if path not in missing]
    if present:
        raise CourseError(
            f"{certificates.folder} holds part of a certificate set ({present[0].name} is "
            f"there, {missing[0].name} is not). Delete that folder and run `course cluster "
            "certificates` again, then copy the new worker folder to every grading machine.")
    _private_folder(certificates.folder)
    _private_folder(certificates.worker_folder)
    ca_key, ca_cert = _authority()
    _write(certificates.ca, _pem(ca_cert))
    _write(certificates.worker[0], _pem(ca_cert))
    for (cert_path, key_path), role in [(certificates.scheduler, "scheduler"),
                                        (certificates.client, "client"),
                                        (certificates.worker[1:], "worker")]:
        key, cert = _signed(role, ca_key, ca_cert)
        _write(key_path, _key_pem(key), private=True)
        _write(cert_path, _pem(cert))
    return certificates, True


def expiry(certificates: Certificates) -> datetime.datetime:
    """When the set stops working (the authority's certificate expires with the others)."""
    from cryptography import x509

    return x509.load_pem_x509_certificate(certificates.ca.read_bytes()).not_valid_after_utc


def scheduler_command(certificates: Certificates, port: int = PORT) -> list[str]:
    """``dask scheduler`` listening only for TLS, with the scheduler's certificate.

    Its dashboard (plain HTTP, no password) only answers on the scheduler's machine.
    """
    cert, key = certificates.scheduler
    return ["dask", "scheduler", "--protocol", "tls", "--port", str(port),
            "--tls-ca-file", str(certificates.ca), "--tls-cert", str(cert),
            "--tls-key", str(key), "--dashboard-address", "127.0.0.1:8787"]


def worker_command(address: str) -> list[str]:
    """``dask worker`` for a grading machine, run in the folder that holds the copied
    worker folder; one task at a time, no dashboard open to the network."""
    ca, cert, key = (f"{WORKER_FOLDER}/{name}" for name in
                     ("ca.pem", "worker.pem", "worker-key.pem"))
    return ["dask", "worker", address, "--nthreads", "1", "--no-dashboard",
            "--tls-ca-file", ca, "--tls-cert", cert, "--tls-key", key]


def client_security(certificates: Certificates):
    """Dask's ``Security`` for ``course autograde``: TLS required, the course's client
    certificate shown, only peers signed by the course's authority accepted."""
    from distributed.security import Security

    cert, key = certificates.client
    return Security(require_encryption=True, tls_ca_file=str(certificates.ca),
                    tls_client_cert=str(cert), tls_client_key=str(key))


def _authority():
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    # A name of its own, so that two courses' authorities are never mistaken for each other.
    name = _name(f"mnist-cnn-course grading CA {secrets.token_hex(4)}")
    builder = _builder(name, name, key.public_key()).add_extension(
        x509.BasicConstraints(ca=True, path_length=0), critical=True).add_extension(
        x509.KeyUsage(digital_signature=False, content_commitment=False,
                      key_encipherment=False, data_encipherment=False, key_agreement=False,
                      key_cert_sign=True, crl_sign=True, encipher_only=False,
                      decipher_only=False), critical=True)
    return key, _sign(builder, key)


def _signed(role: str, ca_key, ca_cert):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = ec.generate_private_key(ec.SECP256R1())
    # Workers and the scheduler both listen and connect, so every certificate does both.
    builder = _builder(_name(f"mnist-cnn-course {role}"), ca_cert.subject,
                       key.public_key()).add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True).add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                               ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return key, _sign(builder, ca_key)


def _name(common_name: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject, issuer, public_key):
    from cryptography import x509

    now = datetime.datetime.now(datetime.timezone.utc)
    # An hour's slack for a grading machine whose clock is a little behind.
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS)))


def _sign(builder, key):
    from cryptography.hazmat.primitives import hashes

    return builder.sign(key, hashes.SHA256())


def _pem(cert) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.PEM)


def _key_pem(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)


def _write(path: Path, data: bytes, private: bool = False) -> None:
    # A key is created readable by its owner only: never, even briefly, by anyone else.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                         0o600 if private else 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600 if private else 0o644)
