"""Grading on several machines with Dask distributed, started with Dask's own commands.

On one machine: ``dask scheduler``; on each grading machine (with this course installed,
its data prepared and bubblewrap for the sandbox): ``dask worker``, both with the course's
certificates (``course cluster certificates`` makes them and prints the two commands, see
:mod:`course_lib.teacher.certificates`). Then ``course autograde --scheduler
tls://HOST:8786`` sends one task per submission
(:func:`course_lib.teacher.workers.grade_packed`) through Dask's ``concurrent.futures``
executor: the task carries the course's settings and ``source/`` (sent once to every
worker) and the submission's files, and returns the graded notebook and the outcome; the
coordinator alone writes the gradebook.

The tasks carry the model answers, the hidden tests and every student's work, and the
workers send back grades: so the coordinator speaks only mutual TLS with the course's
certificates, and a plain ``tcp://`` scheduler is refused unless the teacher knowingly
chooses it (``insecure_plain_tcp``).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from course_lib.teacher.certificates import Certificates, client_security
from course_lib.teacher.course import CourseError


@dataclass(frozen=True)
class Cluster:
    """A scheduler's address and how to speak to it (``None``: plain, no credentials)."""

    address: str
    security: object | None


def open_cluster(address: str, certificates: Path, insecure_plain_tcp: bool = False) -> Cluster:
    """The cluster at ``address``, reached with the certificates in ``certificates``.

    Only ``tls://`` is accepted; any other address is refused with what to do, unless
    ``insecure_plain_tcp`` says the teacher takes the risk knowingly.
    """
    protocol = address.split("://", 1)[0].lower() if "://" in address else "tcp"
    if protocol != "tls":
        if insecure_plain_tcp:
            return Cluster(address, None)
        host = address.split("://", 1)[-1]
        raise CourseError(
            f"Not grading on {address}: over {protocol}:// the course's model answers, "
            "hidden tests and every student's work would cross the network unencrypted, "
            "and any computer that reaches the scheduler could join as a worker and send "
            "back grades. Make the course's certificates with `course cluster "
            "certificates`, start the scheduler and the workers with the commands it "
            f"prints, and grade with --scheduler tls://{host}. (Only on a network that "
            "nothing but your own machines can reach: --insecure-plain-tcp grades over "
            "plain TCP anyway.)")
    found = Certificates(Path(certificates).resolve())
    needed = [found.ca, *found.client]
    missing = [path.name for path in needed if not path.is_file()]
    if missing:
        raise CourseError(
            f"No certificates to reach {address} with: {', '.join(missing)} not found in "
            f"{found.folder}. Make them with `course cluster certificates` (or pass "
            "--certificates FOLDER, the folder it made), and start the scheduler and the "
            "workers with the commands it prints.")
    return Cluster(address, client_security(found))


def _client(cluster: Cluster):
    try:
        from distributed import Client
    except ImportError as error:
        raise RuntimeError("Grading on a cluster needs Dask: pip install "
                           "'mnist-cnn-course[cluster]' (or: pip install distributed).") \
            from error
    try:
        return Client(cluster.address, timeout="30s", security=cluster.security)
    except OSError as error:
        raise CourseError(
            f"Could not reach the Dask scheduler at {cluster.address}: {error}. Is it "
            "running, started with the command `course cluster certificates` prints, "
            "and are these the certificates it was started with?") from error


def cluster_size(cluster: Cluster) -> int:
    """How many tasks the cluster's workers run at once (their threads together)."""
    client = _client(cluster)
    try:
        return max(1, sum(client.nthreads().values()))
    finally:
        client.close()


@contextmanager
def cluster_executor(cluster: Cluster, course: dict):
    """Dask's executor on the cluster, and the packed course as it is shared there (sent
    once to every worker, instead of with every task)."""
    client = _client(cluster)
    try:
        shared = client.scatter(course, broadcast=True)
        # pure=False: the same submission graded again is a new task, not a cached one.
        with client.get_executor(pure=False) as executor:
            yield executor, shared
    finally:
        client.close()
