"""Can only the teacher's machines join the grading cluster, is plain TCP refused, and is a
result the coordinator did not ask for refused?"""

from __future__ import annotations

import ssl
import stat
import subprocess
import time

import pytest
from helpers.course import course_with_submissions
from helpers.dask_cluster import DaskCluster

from course_lib.teacher import autograde as coordinator
from course_lib.teacher import certificates as tls
from course_lib.teacher import records, seals
from course_lib.teacher.cli import main
from course_lib.teacher.cluster import cluster_size, open_cluster
from course_lib.teacher.course import CourseError, GradingOutcome, gradebook_url, step_folder
from course_lib.teacher.workers import WorkerResult

GRADED = {"mnist_cnn.ipynb": b'{"cells": [], "graded": true}'}


@pytest.fixture(scope="module")
def course_certificates(tmp_path_factory):
    return tls.make_certificates(tmp_path_factory.mktemp("teacher") / "certificates")[0]


@pytest.fixture(scope="module")
def stranger_certificates(tmp_path_factory):
    """What someone else makes with the same command: valid certificates, another CA."""
    return tls.make_certificates(tmp_path_factory.mktemp("stranger") / "certificates")[0]


def test_certificates_are_private_and_signed_by_the_course_alone(course_certificates,
                                                                 stranger_certificates):
    """Are the keys readable by their owner only, is there no CA key to sign more with, and
    does each certificate verify against the course's CA and not against another's?"""
    folder = course_certificates.folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(course_certificates.worker_folder.stat().st_mode) == 0o700
    keys = sorted(p.name for p in folder.rglob("*key*"))
    assert keys == ["client-key.pem", "scheduler-key.pem", "worker-key.pem"]
    for key in folder.rglob("*key*"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    from cryptography import x509

    ca = x509.load_pem_x509_certificate(course_certificates.ca.read_bytes())
    other_ca = x509.load_pem_x509_certificate(stranger_certificates.ca.read_bytes())
    for cert_path in (course_certificates.scheduler[0], course_certificates.client[0],
                      course_certificates.worker[1]):
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        cert.verify_directly_issued_by(ca)
        with pytest.raises(ValueError):
            cert.verify_directly_issued_by(other_ca)
    # Made again: the same set, kept (the grading machines hold copies of it).
    before = course_certificates.ca.read_bytes()
    assert tls.make_certificates(folder) == (course_certificates, False)
    assert course_certificates.ca.read_bytes() == before


def test_a_partial_certificate_set_is_not_completed(tmp_path):
    """A folder with some of the files is refused with what to do."""
    certificates, _ = tls.make_certificates(tmp_path / "certificates")
    certificates.client[1].unlink()
    with pytest.raises(CourseError, match="Delete that folder"):
        tls.make_certificates(certificates.folder)


def test_the_command_prints_the_tls_commands(tmp_path, capsys):
    """Does `course cluster certificates` print scheduler and worker commands with TLS?"""
    assert main(["--course", str(tmp_path), "cluster", "certificates",
                 "--host", "teacher.school"]) == 0
    said = capsys.readouterr().out
    folder = tmp_path / tls.FOLDER
    assert (f"dask scheduler --protocol tls --port 8786 --tls-ca-file {folder}/ca.pem "
            f"--tls-cert {folder}/scheduler.pem --tls-key {folder}/scheduler-key.pem") in said
    assert ("dask worker tls://teacher.school:8786 --nthreads 1 --no-dashboard "
            "--tls-ca-file worker/ca.pem --tls-cert worker/worker.pem "
            "--tls-key worker/worker-key.pem") in said
    assert "course autograde --scheduler tls://teacher.school:8786\n" in said


@pytest.fixture
def course(tmp_path):
    folder = course_with_submissions(tmp_path / "course")
    return folder


def test_a_plain_tcp_scheduler_is_refused_with_what_to_do(course, capsys):
    """Is `course autograde --scheduler tcp://...` refused before anything is sent, with
    the command that makes certificates and the tls:// address to use?"""
    code = main(["--course", str(course), "autograde", "--scheduler",
                 "tcp://127.0.0.1:8786"])
    said = capsys.readouterr().err
    assert code == 1
    assert "Not grading on tcp://127.0.0.1:8786" in said
    assert "unencrypted" in said and "course cluster certificates" in said
    assert "--scheduler tls://127.0.0.1:8786" in said and "--insecure-plain-tcp" in said
    # An address without a protocol is Dask's plain TCP too.
    with pytest.raises(CourseError, match="Not grading on 127.0.0.1:8786"):
        open_cluster("127.0.0.1:8786", course / tls.FOLDER)
    # Knowingly: accepted, with no credentials.
    assert open_cluster("tcp://127.0.0.1:8786", course / tls.FOLDER,
                        insecure_plain_tcp=True).security is None


def test_a_tls_scheduler_without_the_certificates_says_how_to_make_them(course, capsys):
    """tls:// with no certificate folder: refused, with the command that makes one."""
    assert main(["--course", str(course), "autograde", "--scheduler",
                 "tls://127.0.0.1:8786"]) == 1
    said = capsys.readouterr().err
    assert "ca.pem, client.pem, client-key.pem not found" in said
    assert "course cluster certificates" in said


def sealed(token, student, ok=True, notebooks=GRADED, assignment="mnist_cnn"):
    return WorkerResult(student, assignment, ok, "", 1.0, dict(notebooks),
                        seals.seal(token, student, assignment, ok, notebooks))


def test_a_forged_result_is_refused():
    """Only the result sealed with the task's own token, for its student, unaltered, is
    accepted."""
    token = seals.new_token()
    assert seals.refusal(sealed(token, "alice"), token, "alice", "mnist_cnn") is None
    guessed = sealed(seals.new_token(), "alice")
    assert "seal does not match" in seals.refusal(guessed, token, "alice", "mnist_cnn")
    altered = sealed(token, "alice")
    altered.notebooks["mnist_cnn.ipynb"] += b" "
    assert "seal does not match" in seals.refusal(altered, token, "alice", "mnist_cnn")
    failed_made_ok = sealed(token, "alice", ok=False)
    failed_made_ok.ok = True
    assert "seal does not match" in seals.refusal(failed_made_ok, token, "alice", "mnist_cnn")
    other_student = sealed(token, "mallory")
    assert "is for 'mallory'" in seals.refusal(other_student, token, "alice", "mnist_cnn")
    unsealed = sealed(token, "alice")
    unsealed.seal = ""
    assert "seal does not match" in seals.refusal(unsealed, token, "alice", "mnist_cnn")
    assert "not a graded result" in seals.refusal({"ok": True}, token, "alice", "mnist_cnn")


def test_the_coordinator_records_only_the_results_it_sent_for(course, monkeypatch):
    """Workers answer: alice's task truly, bob's with carol's name, carol's with a seal
    made without the token. Only alice is graded; bob and carol are reported not graded,
    nothing of theirs is recorded."""
    from nbgrader.api import Gradebook

    with Gradebook(gradebook_url(course)) as book:  # as `course generate` leaves it
        book.update_or_create_assignment("mnist_cnn")
    monkeypatch.setattr(coordinator, "pack_course", lambda *args: {})
    monkeypatch.setattr(coordinator, "pack_submission", lambda *args: {})

    def worker(course, submission, student, assignment, extra, environment, *, token):
        if student == "bob":
            return sealed(token, "carol")
        if student == "carol":
            return sealed(seals.new_token(), "carol")
        return sealed(token, student)

    recorded = []

    def record(course_dir, student, assignment, extra, environment=None):
        # nbgrader replaying the worker's graded notebook in the course.
        recorded.append(student)
        step_folder(course_dir, "autograded", student, assignment).mkdir(parents=True)
        return GradingOutcome(student, True, 1.0)

    monkeypatch.setattr(coordinator, "grade_packed", worker)
    monkeypatch.setattr(coordinator, "autograde_one", record)
    lines = []
    outcomes = coordinator.autograde(course, report=lines.append, unsandboxed=True,
                                     workers=2)
    result = {o.student: (o.ok, o.message) for o in outcomes}
    assert result["alice"] == (True, "")
    assert not result["bob"][0] and "refused: it is for 'carol'" in result["bob"][1]
    assert not result["carol"][0] and "seal does not match" in result["carol"][1]
    assert recorded == ["alice"]
    assert records.read_grading_record(course, "alice", "mnist_cnn")
    assert not records.read_grading_record(course, "bob", "mnist_cnn")
    assert not records.read_grading_record(course, "carol", "mnist_cnn")
    said = "\n".join(lines)
    assert "Graded 1 of 3" in said and "not graded: bob" in said


@pytest.mark.slow
def test_only_a_machine_with_the_course_certificates_joins(tmp_path, course_certificates,
                                                           stranger_certificates):
    """On a real `dask scheduler` started as printed: a worker over plain TCP, one with a
    stranger's certificates (trusting the course's public CA), and a TLS handshake with no
    certificate are all turned away; the worker with the course's certificates joins, and
    `course autograde`'s client reaches it with the course's certificates."""
    cluster = DaskCluster(tmp_path, course_certificates)
    try:
        host_port = cluster.address.split("://", 1)[1]
        plain = cluster.start_worker("plain", ["dask", "worker", f"tcp://{host_port}",
                                               "--nthreads", "1", "--no-dashboard"])
        stranger = stranger_certificates.worker
        stranger = cluster.start_worker("stranger", [
            "dask", "worker", f"tls://{host_port}", "--nthreads", "1", "--no-dashboard",
            "--tls-ca-file", str(course_certificates.ca), "--tls-cert", str(stranger[1]),
            "--tls-key", str(stranger[2])])
        handshake = _handshake_without_certificate(course_certificates, cluster.port)
        for process in (plain, stranger):
            try:
                process.wait(timeout=60)  # turned away, a worker gives up
            except subprocess.TimeoutExpired:
                pass  # still there: it may have joined, as the next line tells
        assert cluster.worker_names() == []
        assert plain.returncode and stranger.returncode
        # The scheduler's verdict on the stranger's certificate (what the stranger itself
        # sees depends on timing: TLS 1.3 may show it an alert or a closed connection).
        assert "CERTIFICATE_VERIFY_FAILED" in cluster.log("scheduler")
        assert handshake is not None, "a TLS client with no certificate was let in"
        cluster.start_worker("lab-0")
        cluster.wait_for_workers(1)
        time.sleep(2)
        assert cluster.worker_names() == ["lab-0"]
        reached = open_cluster(cluster.address, course_certificates.folder)
        assert cluster_size(reached) == 1
    finally:
        cluster.stop()


def _handshake_without_certificate(certificates, port):
    """The error a TLS client that shows no certificate meets (``None``: it got in)."""
    import socket

    context = ssl.create_default_context(cafile=str(certificates.ca))
    context.check_hostname = False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                context.wrap_socket(raw) as connection:
            connection.recv(1)  # the server's verdict on the (missing) certificate
    except ssl.SSLError as error:
        return error if "CERTIFICATE" in str(error).upper() else None
    except OSError:
        return None
    return None
