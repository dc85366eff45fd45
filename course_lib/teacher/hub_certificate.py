"""A certificate for the classroom server from Let's Encrypt (``course hub --letsencrypt``).

The other route beside the school's certificate: certbot, the ACME client Let's Encrypt
recommends, proves with its standalone http-01 check that the server answers for the name
(Let's Encrypt asks ``http://NAME/.well-known/acme-challenge/...`` on port 80, and certbot
answers for the few seconds it takes), then the hub serves copies of the certificate and
key readable by root alone, exactly as it serves the school's. certbot keeps its account,
its settings and its logs in ``letsencrypt/`` inside the hub's private state folder, not in
``/etc/letsencrypt``. ``course hub renew-certificate`` (daily from cron or a systemd timer)
fetches a new certificate when a third of the current one's life is left, and restarts
the hub to serve it.
"""

from __future__ import annotations

import datetime
import errno
import importlib.util
import ipaddress
import json
import re
import socket
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from course_lib.teacher import hub
from course_lib.teacher.course import CourseError
from course_lib.teacher.hub import _install_certificate
from course_lib.teacher.hub_accounts import write_private

LETSENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory"
CERT_NAME = "classroom"  # certbot's name for the hub's certificate in its own folders
CERTBOT_TIMEOUT = 600  # seconds: certbot's own network calls time out well before
# A DNS name: labels of letters, digits and hyphens, at least two of them.
HOST_NAME = re.compile(r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+"
                       r"[a-z][a-z0-9-]*[a-z0-9]")
INSTALL_HINT = ("pip install 'mnist-cnn-course[letsencrypt]' (or '.[letsencrypt]' in the "
                "course's project folder) in the environment that runs `course`")


@dataclass(frozen=True)
class AcmeRequest:
    """What to ask the ACME server for; kept in the hub's settings for renewal."""

    host: str  # the server's public name, e.g. classroom.school.example
    email: str  # Let's Encrypt writes here about the account (e.g. a revoked certificate)
    directory: str = LETSENCRYPT_DIRECTORY
    http_port: int = 80  # where the ACME server's check arrives (80, but for tests)
    http_address: str = ""  # the address certbot's check server listens on ("": all)

    def as_dict(self) -> dict:
        """The request as saved in ``hub.json``."""
        return asdict(self)


def request_from_options(host: str | None, email: str | None,
                         directory: str | None) -> AcmeRequest | None:
    """The request of ``--letsencrypt``, ``--acme-email``, ``--acme-directory`` (None
    without ``--letsencrypt``), checked."""
    if host is None:
        if email is not None or directory is not None:
            raise CourseError("--acme-email and --acme-directory go with --letsencrypt "
                              "HOST.NAME: add it, or leave them out.")
        return None
    if not email:
        raise CourseError(f"--letsencrypt {host} also needs --acme-email ADDRESS: Let's "
                          "Encrypt writes there about the certificate (e.g. if it must be "
                          "replaced). Add it and run the command again.")
    request = AcmeRequest(host.strip().lower().rstrip("."), email,
                          directory or LETSENCRYPT_DIRECTORY)
    check_request(request)
    return request


def check_request(request: AcmeRequest) -> None:
    """Refuse a name, address or directory that cannot work, before anything is done."""
    host = request.host.strip().lower()
    try:
        ipaddress.ip_address(host)
        raise CourseError(f"--letsencrypt takes the server's name, but {host} is an address: "
                          "Let's Encrypt certifies names only. Give the name students type, "
                          "e.g. --letsencrypt classroom.school.example.")
    except ValueError:
        pass
    if not HOST_NAME.fullmatch(host):
        raise CourseError(f"--letsencrypt expects the server's full public name (letters, "
                          f"digits, hyphens and dots, e.g. classroom.school.example), but got "
                          f"{request.host!r}. Give the name that points at this server.")
    if "@" not in request.email or request.email.strip() != request.email:
        raise CourseError(f"--acme-email expects an e-mail address (Let's Encrypt writes there "
                          f"about the certificate), but got {request.email!r}.")
    if not request.directory.startswith("https://"):
        raise CourseError(f"--acme-directory expects the ACME server's https:// address, but "
                          f"got {request.directory!r} (Let's Encrypt's is "
                          f"{LETSENCRYPT_DIRECTORY}).")


def choose_certificate(state: Path, request: AcmeRequest | None, certificate: Path | None,
                       key: Path | None, report=print) -> tuple[Path | None, Path | None]:
    """``course hub``'s certificate: with ``request``, Let's Encrypt's (obtained now and
    remembered for renewal), else the school's as given (and Let's Encrypt's forgotten)."""
    if request is not None and certificate is not None:
        raise CourseError("Give either the school's certificate (--certificate, --key) or "
                          "--letsencrypt NAME, not both.")
    if request is None:
        (state / "letsencrypt" / "request.json").unlink(missing_ok=True)
        return certificate, key
    installed = obtain_certificate(state, request, report=report)
    write_private(state / "letsencrypt" / "request.json", json.dumps(request.as_dict()))
    return installed


def saved_request(state: Path) -> AcmeRequest | None:
    """The Let's Encrypt request the hub's certificate came from (None: the school's)."""
    try:
        return AcmeRequest(**json.loads((state / "letsencrypt" / "request.json").read_text()))
    except FileNotFoundError:
        return None


def obtain_certificate(state: Path, request: AcmeRequest, *, force: bool = False,
                       report=print) -> tuple[Path, Path]:
    """Get a certificate for ``request.host`` and install copies (key 0600) for the hub.

    A certificate certbot already holds for the same name and ACME server is kept while
    more than a third of its life is left (unless ``force``): running ``course hub`` again
    asks Let's Encrypt for nothing. A test ACME server's own HTTPS certificate is trusted
    for one command by setting ``REQUESTS_CA_BUNDLE`` for that command alone. Returns the
    installed certificate (with its chain) and key; raises :class:`CourseError` saying what
    went wrong, with nothing installed.
    """
    check_request(request)
    folders = _certbot_folders(state)
    live = folders["config"] / "live" / CERT_NAME
    if force or not _still_good(folders["config"], request):
        _check_port_free(request)
        report(f"Asking {request.directory} for a certificate for {request.host} (its check "
               f"arrives on port {request.http_port}) ...")
        _run_certbot(folders, request)
    installed = _install_certificate(state, live / "fullchain.pem", live / "privkey.pem")
    return Path(installed[0]), Path(installed[1])


def renewal_due(certificate: Path, now: datetime.datetime | None = None) -> bool:
    """Whether a third or less of the certificate's life is left (Let's Encrypt's advice:
    30 days of a 90-day certificate), or it cannot be read."""
    try:
        from cryptography import x509

        loaded = x509.load_pem_x509_certificate(Path(certificate).read_bytes())
    except (OSError, ValueError):
        return True
    now = now or datetime.datetime.now(datetime.timezone.utc)
    start, end = loaded.not_valid_before_utc, loaded.not_valid_after_utc
    return end - now <= (end - start) / 3


def expiry(certificate: Path) -> datetime.datetime:
    """When the certificate stops being valid (UTC)."""
    from cryptography import x509

    return x509.load_pem_x509_certificate(Path(certificate).read_bytes()).not_valid_after_utc


def renew_certificate(state: Path, *, force: bool = False, report=print) -> bool:
    """``course hub renew-certificate``: a new certificate when due, then the hub restarted
    to serve it (if it was running). True if a new certificate was installed.

    When the hub's own plain HTTP port is the one the check arrives on, the hub is
    stopped first (else the check could not be answered); if renewal fails it is started
    again with the certificate it had, which stays valid for weeks.
    """
    settings = hub.load_settings(state)
    if settings is None:
        raise CourseError(f"No classroom server is set up in {state}: nothing to renew.")
    request = saved_request(state)
    if request is None:
        raise CourseError("This classroom server does not use a certificate from Let's "
                          "Encrypt (it was set up with the school's certificate, or none), so "
                          "there is nothing to renew here: give the school's renewed files to "
                          "`course hub --certificate CERT --key KEY` instead.")
    if not force and not renewal_due(Path(settings.certificate)):
        report(f"The certificate for {request.host} is valid until "
               f"{expiry(Path(settings.certificate)):%Y-%m-%d}: not due for renewal yet.")
        return False
    running = hub.running_pid(state) is not None
    holds_port = running and settings.redirect_port == request.http_port
    if holds_port:
        report(f"Stopping the classroom server: Let's Encrypt's check needs its port "
               f"{request.http_port} ...")
        hub.stop(state)
    try:
        obtain_certificate(state, request, force=True, report=report)
    finally:
        if holds_port:
            hub.start(state, report=report)
    if running and not holds_port:
        report("Restarting the classroom server to serve the new certificate ...")
        hub.stop(state)
        hub.start(state, report=report)
    report(f"Renewed: the certificate for {request.host} is valid until "
           f"{expiry(Path(settings.certificate)):%Y-%m-%d}.")
    return True


# ---- certbot ---------------------------------------------------------------------------------

def _certbot_folders(state: Path) -> dict[str, Path]:
    """certbot's config (account, certificates), work and logs folders, root's alone."""
    base = state / "letsencrypt"
    folders = {name: base / name for name in ("config", "work", "logs")}
    for folder in (base, *folders.values()):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)
    return folders


def _still_good(config: Path, request: AcmeRequest) -> bool:
    """Whether certbot holds a certificate for this name, from this ACME server, that is
    not due for renewal."""
    from cryptography import x509

    live = config / "live" / CERT_NAME / "fullchain.pem"
    renewal = config / "renewal" / f"{CERT_NAME}.conf"
    try:
        loaded = x509.load_pem_x509_certificate(live.read_bytes())
        names = loaded.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
        server = re.search(r"^server\s*=\s*(\S+)", renewal.read_text(), re.MULTILINE)
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    return (names == [request.host] and server is not None
            and server.group(1) == request.directory and not renewal_due(live))


def _check_port_free(request: AcmeRequest) -> None:
    """Refuse early, and plainly, when another program holds the port of the check."""
    probe = socket.socket(socket.AF_INET6 if ":" in request.http_address else socket.AF_INET)
    # As certbot's own server does: a port left in TIME_WAIT by a past check is free.
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((request.http_address, request.http_port))
    except OSError as error:
        where = f"{request.http_address or 'every address'}, port {request.http_port}"
        if error.errno == errno.EADDRINUSE:
            raise CourseError(
                f"Let's Encrypt checks that this server answers for {request.host} on port "
                f"{request.http_port}, so `course hub` must listen there for a few seconds; "
                f"but another program already uses that port ({where}). Find it with "
                f"`ss -ltnp 'sport = :{request.http_port}'` and stop it (a web server such "
                "as apache2 or nginx; or this classroom server itself, when it was started "
                f"with --redirect-port {request.http_port}: run `course hub stop` first), "
                "then run the command again.") from None
        raise CourseError(f"`course hub` cannot listen on {where} for Let's Encrypt's check "
                          f"({error.strerror}): run it as root.") from None
    finally:
        probe.close()


def _run_certbot(folders: dict[str, Path], request: AcmeRequest) -> None:
    if importlib.util.find_spec("certbot") is None:
        raise CourseError("--letsencrypt needs certbot, Let's Encrypt's client, which is not "
                          f"installed here. Install it with {INSTALL_HINT}, then run the "
                          "command again.")
    command = [sys.executable, "-c", "import sys; from certbot.main import main; "
               "sys.exit(main())",
               "certonly", "--standalone", "--non-interactive", "--agree-tos",
               "--no-eff-email", "--email", request.email, "--domains", request.host,
               "--cert-name", CERT_NAME, "--force-renewal", "--server", request.directory,
               "--http-01-port", str(request.http_port),
               "--config-dir", str(folders["config"]), "--work-dir", str(folders["work"]),
               "--logs-dir", str(folders["logs"])]
    if request.http_address:
        command += ["--http-01-address", request.http_address]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False,
                              timeout=CERTBOT_TIMEOUT, umask=0o077)
    except subprocess.TimeoutExpired:
        raise CourseError(_explain("timed out", request, folders["logs"])) from None
    if done.returncode != 0:
        raise CourseError(_explain(done.stdout + "\n" + done.stderr, request,
                                   folders["logs"]))


# ---- what went wrong, for a teacher ---------------------------------------------------------

def _explain(output: str, request: AcmeRequest, logs: Path) -> str:
    """certbot's failure as expected / found / what to do."""
    details = [line.strip() for line in output.splitlines()
               if line.strip().startswith(("Detail:", "Type:"))]
    found = "\n  ".join(details) or _last_lines(output)
    log = f"certbot's full log: {logs / 'letsencrypt.log'}."
    lowered = output.lower()
    if "ratelimited" in lowered or "too many" in lowered or "rate limit" in lowered:
        return (f"Let's Encrypt refused a certificate for {request.host} for now: it gives "
                "each name only a few certificates a week, and this name (or this server's "
                f"address) has reached that limit. Its answer:\n  {found}\nWait until the "
                "time it names (see https://letsencrypt.org/docs/rate-limits/); meanwhile "
                "the certificate already installed, or the school's (--certificate, --key), "
                f"keeps working. Do not retry in a loop. {log}")
    if "type:   dns" in lowered or "dns problem" in lowered or "nxdomain" in lowered:
        return (f"Let's Encrypt expected the name {request.host} to point at this server "
                f"(a DNS record with this server's public address), but found:\n  {found}\n"
                f"On this server, {_where_name_points(request.host)} Ask whoever manages the "
                "school's domain to add the record, wait until it is visible, then run the "
                f"command again. {log}")
    if ("type:   connection" in lowered or "type:   unauthorized" in lowered
            or "failed to authenticate" in lowered or "timeout during connect" in lowered):
        return (f"Let's Encrypt could not check that this server answers for "
                f"{request.host}: it expected to fetch a file from http://{request.host}"
                f"{'' if request.http_port == 80 else f':{request.http_port}'}"
                f"/.well-known/acme-challenge/ from the program `course hub` ran on port "
                f"{request.http_port}, but found:\n  {found}\nOn this server, "
                f"{_where_name_points(request.host)} Check that the name points at this "
                f"server's public address and that port {request.http_port} is open to the "
                "internet (firewall, or the router's port forwarding), then run the command "
                f"again. Nothing was installed. {log}")
    if "certificate_verify_failed" in lowered or "sslerror" in lowered:
        return (f"The ACME server {request.directory} answered with a certificate this "
                f"server does not trust:\n  {found}\nCheck --acme-directory (Let's "
                f"Encrypt's is {LETSENCRYPT_DIRECTORY}) and the server's clock. {log}")
    if ("connectionerror" in lowered or "failed to establish" in lowered
            or "name resolution" in lowered or "timed out" in lowered
            or "unable to reach" in lowered or "max retries" in lowered):
        return (f"Could not reach the ACME server {request.directory}: this server needs "
                f"to reach it over HTTPS, but found:\n  {found}\nCheck the server's network "
                "(can it open https://letsencrypt.org? is a proxy or firewall in the way?) "
                "and --acme-directory, then run the command again. Meanwhile the school's "
                f"certificate (--certificate, --key) works without the internet. {log}")
    return (f"certbot could not get a certificate for {request.host} from "
            f"{request.directory}:\n  {found}\n{log}")


def _last_lines(output: str, count: int = 6) -> str:
    lines = [line for line in output.strip().splitlines()
             if line.strip() and not line.startswith(("Saving debug log", "Ask for help"))]
    return "\n  ".join(lines[-count:]) or "(certbot said nothing)"


def _where_name_points(host: str) -> str:
    """What this server's own DNS says of the name, to set beside the ACME server's view."""
    try:
        found = sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except OSError:
        return f"the name {host} is not found in DNS either."
    return f"the name {host} points at {', '.join(found)}."
