"""course: the teacher's tasks with this course's defaults.

    course demo                      the whole cycle on three demo students, in demo/
    course translate                 mark new or changed English text in translations/
    course generate                  the lesson in each language, then source/ -> release/
    course hub [status|stop|remove|renew-certificate]  the classroom server (JupyterHub),
                                     see course hub -h
    course release                   the student version -> nbgrader's exchange
    course collect [ZIP_OR_FOLDER...] [--moodle|--canvas FILE]  the exchange, or platform
                                     downloads -> submitted/
    course autograde [ASSIGNMENT] [--student S]  nbgrader autograde, several students at once
    course cluster certificates      certificates for grading on several machines (Dask)
    course feedback                  nbgrader generate_feedback -> feedback/
    course return [--moodle|--canvas FILE]  grades and feedback back to the students
    course export [CSV]              nbgrader export -> grades.csv
    course summary                   scores per student and per graded cell
    course leaderboard [ASSIGNMENT]  the class ranked by the grader's measured accuracy
    course data status|fetch|import  see or prepare the MNIST data
    course reference                 train the lesson's network here, report its accuracy

Run them in the course folder (the one with nbgrader_config.py), or pass --course DIR.
The lesson comes in English (mnist_cnn) and Dutch (mnist_cnn_nl); the steps after
generate take the English one unless you pass --assignment mnist_cnn_nl.
What you asked for is printed on standard output, with the progress; warnings and errors
go to standard error. -q shows only those; --log-level DEBUG shows more.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from course_lib.lesson.constants import QUIET_TENSORFLOW
from course_lib.lesson.language import LANGUAGES
from course_lib.lesson.mnist_files import MnistFileError
from course_lib.teacher.course import ASSIGNMENT, CourseError
from course_lib.teacher.nbgrader_main import leave_out_unused_format_checkers

log = logging.getLogger(__name__)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def main(argv: list[str] | None = None) -> int:
    """Run ``course`` with ``argv`` (default: the command line); return the exit code."""
    os.environ.setdefault(*QUIET_TENSORFLOW)
    leave_out_unused_format_checkers()
    parser = build_parser()
    options = parser.parse_args(argv)
    if not hasattr(options, "run"):
        parser.print_help()
        return 2
    with console_logging(options.log_level):
        log.debug("course %s, in %s", " ".join(sys.argv[1:] if argv is None else argv),
                  options.course.resolve())
        try:
            return options.run(options) or 0
        except (MnistFileError, CourseError) as error:
            log.error("%s", error)
            return 1


class _Console(logging.Handler):
    """The teacher's terminal: INFO on standard output as it is, the other levels on
    standard error after their name ("warning: ..."). The streams are looked up for each
    line, so that output redirected after the start (pipes, tests) gets them."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            if record.levelno != logging.INFO:
                text = f"{record.levelname.lower()}: {text}"
            stream = sys.stdout if record.levelno == logging.INFO else sys.stderr
            stream.write(text + "\n")
            stream.flush()
        except Exception:  # noqa: BLE001 - logging's own rule: never fail the caller
            self.handleError(record)


@contextmanager
def console_logging(level: str = "INFO"):
    """The course's messages at ``level`` and above on the terminal while ``course`` runs;
    the loggers are left as they were after (``main`` is also called from tests)."""
    # Run as `python -m course_lib.teacher.cli`, this module's logger is `__main__`.
    names = ["course_lib"] + ([] if __name__.startswith("course_lib.") else [__name__])
    handler = _Console()
    before = []
    for name in names:
        logger = logging.getLogger(name)
        before.append((logger, logger.level, logger.propagate))
        # Not also through the root logger: a library that configures it would print twice.
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    try:
        yield handler
    finally:
        for logger, old_level, propagate in before:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
            logger.propagate = propagate


def build_parser() -> argparse.ArgumentParser:
    """Describe the command line of ``course``."""
    parser = argparse.ArgumentParser(prog="course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course", type=Path, default=Path("."),
                        help="the course folder (default: the current folder)")
    from importlib import metadata

    parser.add_argument("--version", action="version",
                        version=f"course (mnist-cnn-course) {metadata.version('mnist-cnn-course')}",
                        help="print the course package's version and stop")
    parser.add_argument("--assignment", default=ASSIGNMENT,
                        help=f"the assignment: {ASSIGNMENT} (English, the default) or "
                             f"{ASSIGNMENT}_nl (Dutch)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="INFO",
                        help="the least important messages shown: DEBUG (everything), INFO "
                             "(progress and notes too, the default), WARNING, ERROR")
    parser.add_argument("-q", "--quiet", dest="log_level", action="store_const",
                        const="WARNING", help="only the results, warnings and errors "
                                              "(--log-level WARNING)")
    commands = parser.add_subparsers(title="commands")

    commands.add_parser("generate", help="the lesson in each language, then the student "
                        "versions in release/").set_defaults(run=_generate)
    commands.add_parser("translate", help="mark new or changed English text in the "
                        "translations' catalogues").set_defaults(run=_translate)
    hub = commands.add_parser(
        "hub", help="the classroom server: JupyterHub with nbgrader's exchange",
        formatter_class=argparse.RawDescriptionHelpFormatter, description=HUB_HELP)
    hub.add_argument("--class-list", type=Path, metavar="CLASS.csv",
                     help="the students: a CSV with columns id (their account name and "
                          "gradebook id) and name")
    hub.add_argument("--teacher", default=None, help="the teacher's account "
                     "(default: as before, else teacher)")
    hub.add_argument("--ip", default=None,
                     help="address to listen on (default: as before, else all)")
    hub.add_argument("--port", type=int, default=None,
                     help="port (default: as before, else 8000; 443 with HTTPS)")
    hub.add_argument("--certificate", type=Path, default=None, metavar="CERT.pem",
                     help="HTTPS: the school's certificate for this server's name (PEM, "
                          "with its chain); kept as before if not given")
    hub.add_argument("--key", type=Path, default=None, metavar="KEY.pem",
                     help="HTTPS: the certificate's private key")
    hub.add_argument("--redirect-port", type=int, default=None, metavar="PORT",
                     help="with HTTPS: also open this plain HTTP port (e.g. 80), which only "
                          "redirects to HTTPS (default: as before, else not opened)")
    hub.add_argument("--letsencrypt", default=None, metavar="HOST.NAME",
                     help="HTTPS with a certificate from Let's Encrypt for this public name "
                          "(instead of --certificate, --key); needs port 80 reachable from "
                          "the internet")
    hub.add_argument("--acme-email", default=None, metavar="ADDRESS",
                     help="with --letsencrypt: where Let's Encrypt writes about the "
                          "certificate")
    hub.add_argument("--acme-directory", default=None, metavar="URL",
                     help="with --letsencrypt: the ACME server (default: Let's Encrypt's)")
    hub.add_argument("--disk-mb", type=int, default=None, metavar="N",
                     help="each student's disk cap in MB, where the file system has user "
                          "quotas on (default: as before, else 1024; 0: no cap)")
    hub.add_argument("--state", type=Path, default=None, help=STATE_HELP)
    hub.set_defaults(run=_hub)
    # `--state` after a hub command too; not given there, the one before it stays.
    state = argparse.ArgumentParser(add_help=False)
    state.add_argument("--state", type=Path, default=argparse.SUPPRESS, help=STATE_HELP)
    hub_commands = hub.add_subparsers(
        title="hub commands", metavar="{status,stop,remove,renew-certificate}",
        description="without one, `course hub` sets up the classroom server and starts it")
    for name, run, help_text in [
        ("status", _hub_status, "is it running, where; the students' limits and disk caps"),
        ("stop", _hub_stop, "stop it (and every user's server; their files stay)"),
        ("remove", _hub_remove, "stop it and delete the accounts it made, their homes and "
                                "its files"),
        ("renew-certificate", _hub_renew_certificate, "renew the Let's Encrypt certificate "
                                                      "if due and restart the hub with it"),
    ]:
        hub_commands.add_parser(name, help=help_text, description=help_text[0].upper()
                                + help_text[1:] + ".", parents=[state]).set_defaults(run=run)
    commands.add_parser(
        "release", help="put the student version into nbgrader's exchange (classroom "
                        "server)").set_defaults(run=_release)
    collect = commands.add_parser(
        "collect", help="collect submissions: from nbgrader's exchange, or from downloads")
    collect.add_argument("sources", nargs="*", type=Path,
                         help="zip files or folders downloaded from a learning platform "
                              "(none: the submissions in nbgrader's exchange)")
    sheet = collect.add_mutually_exclusive_group()
    sheet.add_argument("--moodle", type=Path, metavar="WORKSHEET.csv",
                       help="the Moodle assignment's grading worksheet: who handed in, "
                            "and when (for late penalties)")
    sheet.add_argument("--canvas", type=Path, metavar="EXPORT.csv",
                       help="the Canvas gradebook export: who is in the course, by name")
    collect.add_argument("--timezone", default=None, metavar="ZONE",
                         help="the time zone of the worksheet's times, as in your Moodle "
                              "profile, e.g. Europe/Brussels (default: this computer's)")
    collect.set_defaults(run=_collect)
    grade = commands.add_parser("autograde", help="grade submissions, several at once")
    grade.add_argument("assignment_name", nargs="?", default=None, metavar="ASSIGNMENT",
                       help=f"the assignment, as with nbgrader autograde: {ASSIGNMENT} or "
                            f"{ASSIGNMENT}_nl (default: --assignment's, {ASSIGNMENT})")
    grade.add_argument("--student", dest="students", action="append", type=_student_id,
                       default=[], metavar="STUDENT",
                       help="only this student; repeat for several (default: all)")
    grade.add_argument("--workers", type=_workers, default=None, metavar="N",
                       help="submissions graded at once; 0: what this computer's cores and "
                            "memory allow (default: c.CourseAutograde.workers in "
                            "nbgrader_config.py, else 0)")
    grade.add_argument("--scheduler", default=None, metavar="tls://HOST:8786",
                       help="grade on the Dask cluster of this scheduler, reached with the "
                            "course's certificates (see course cluster certificates -h); '': "
                            "on this computer (default: c.CourseAutograde.scheduler, else '')")
    grade.add_argument("--certificates", type=Path, default=None, metavar="FOLDER",
                       help="the folder `course cluster certificates` made (default: "
                            "cluster-certificates/ in the course folder)")
    grade.add_argument("--insecure-plain-tcp", action="store_true",
                       help="RISKY: accept a tcp:// scheduler; the answers, hidden tests and "
                            "students' work then cross the network in clear, and any "
                            "computer that reaches the scheduler can join and send grades")
    grade.add_argument("--force", action=argparse.BooleanOptionalAction, default=None,
                       help="grade again submissions already graded and unchanged since; "
                            "--no-force: skip them (default: c.CourseAutograde.force, else "
                            "skip them)")
    grade.add_argument("--unsandboxed", action="store_true",
                       help="grade even where the sandbox cannot run (student code then "
                            "runs with your rights)")
    grade.set_defaults(run=_autograde)
    cluster = commands.add_parser(
        "cluster", help="grading on several machines: the Dask cluster's certificates")
    cluster.set_defaults(run=_show_help(cluster))
    certificates_help = ("make (once) the certificates that let only your machines join the "
                         "grading cluster, and print the scheduler's and the workers' commands")
    certificates = cluster.add_subparsers(title="cluster commands").add_parser(
        "certificates", help=certificates_help, description=certificates_help.capitalize())
    certificates.add_argument("--folder", type=Path, default=None,
                              help="where (default: cluster-certificates/ in the course "
                                   "folder)")
    certificates.add_argument("--host", default=None,
                              help="the scheduler's machine, as the workers reach it "
                                   "(default: this computer's name)")
    certificates.set_defaults(run=_cluster)
    commands.add_parser("feedback", help="write feedback pages").set_defaults(run=_feedback)
    returning = commands.add_parser(
        "return", help="grades and feedback back to the students: the classroom server's "
                       "exchange, or files for Moodle or Canvas")
    route = returning.add_mutually_exclusive_group()
    route.add_argument("--moodle", type=Path, metavar="WORKSHEET.csv",
                       help="fill this grading worksheet downloaded from the Moodle "
                            "assignment, and zip the feedback pages for its upload")
    route.add_argument("--canvas", type=Path, metavar="EXPORT.csv",
                       help="make Canvas' gradebook import from this gradebook export, and "
                            "zip the feedback pages for 'Re-upload submissions'")
    returning.add_argument("--column", default=None,
                           help="Canvas: the assignment's column, e.g. 'MNIST CNN (1234)', "
                                "when the export has several")
    returning.add_argument("--into", type=Path, default=None,
                           help="folder for the files (default: the course folder)")
    returning.add_argument("--replace-grades", action="store_true",
                           help="Moodle or Canvas: replace grades and comments already "
                                "given on the platform (default: keep them, and say whose)")
    returning.set_defaults(run=_return)
    export = commands.add_parser("export", help="export grades to CSV")
    export.add_argument("csv", nargs="?", type=Path, help="where (default: grades.csv)")
    export.set_defaults(run=_export)
    commands.add_parser("summary", help="print the scores").set_defaults(run=_summary)
    board = commands.add_parser("leaderboard", help="the class ranked by the test accuracy the "
                                "grader measured of each tuned recipe; an HTML page too")
    board.add_argument("assignment_name", nargs="?", default=None, metavar="ASSIGNMENT",
                       help=f"the assignment (default: --assignment's, {ASSIGNMENT})")
    board.add_argument("--html", type=Path, default=None, metavar="FILE",
                       help="also write the page here (it is always written to "
                            "leaderboard/ASSIGNMENT.html in the course folder)")
    board.add_argument("--language", choices=sorted(LANGUAGES), default=None,
                       help="the page's language (default: the assignment's)")
    board.add_argument("--show-ids", action="store_true",
                       help="show the students' ids beside their names, on the terminal only")
    board.set_defaults(run=_leaderboard)
    demo = commands.add_parser("demo", help="the whole cycle on three demo students")
    demo.add_argument("--into", type=Path, default=Path("demo"),
                      help="folder for the demo course (default: demo/, replaced each time)")
    demo.set_defaults(run=_demo)

    data_parser = commands.add_parser("data", help="see or prepare the MNIST data")
    data_parser.set_defaults(run=_show_help(data_parser))
    data = data_parser.add_subparsers(title="data commands")
    data.add_parser("status", help="say which MNIST the course uses here").set_defaults(
        run=_data_status
    )
    data.add_parser("fetch", help="download the full MNIST once (needs internet)").set_defaults(
        run=_data_fetch
    )
    importer = data.add_parser("import", help="check a copied MNIST and store it for the course")
    importer.add_argument("path", help="a keras-style mnist.npz, or a folder with the idx files")
    importer.set_defaults(run=_data_import)

    package = commands.add_parser(
        "package", help="build the students' package: course_lib as a wheel, nothing else")
    package.add_argument("--into", type=Path, default=Path("dist"),
                         help="folder for the wheel (default: dist/)")
    package.set_defaults(run=_package)

    reference = commands.add_parser(
        "reference", help="train the lesson's reference CNN here and report its test accuracy"
    )
    reference.add_argument("--epochs", type=int, default=None,
                           help="epochs to train (default: the data profile's)")
    reference.set_defaults(run=_reference)
    return parser


STATE_HELP = "folder for what the server keeps (default: /srv/mnist-course)"


def _show_help(parser: argparse.ArgumentParser):
    """A command that needs a sub-command: without one, its help, and exit code 2."""

    def show(options) -> int:
        parser.print_help(sys.stderr)
        return 2

    return show


def _workers(text: str) -> int:
    """``--workers``: a whole number, 0 or more, refused before anything runs otherwise."""
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(
            f"expected a number of submissions graded at once, 1 or more (or 0: as many as "
            f"this computer allows), found {text!r}")
    return count


def _generate(options) -> int:
    from course_lib.teacher import course, translate

    for language in translate.translations(options.course):
        folder = translate.write_translation(options.course, language)
        print(f"The lesson in {LANGUAGES[language]} is in {folder}.")
    for assignment in course.assignments(options.course):
        print(f"The student version is in {course.generate(options.course, assignment)}.")
    return 0


def _translate(options) -> int:
    from course_lib.teacher import translate

    languages = translate.translations(options.course)
    if not languages:
        log.info(f"No catalogues in {options.course / translate.TRANSLATIONS}: nothing to do.")
    for language in languages:
        changes = translate.update_catalogue(options.course, language)
        path = translate.catalogue_path(options.course, language)
        todo = changes["new"] + changes["changed"]
        print(f"{LANGUAGES[language]}: {path}: " + (
            f"{len(changes['new'])} new and {len(changes['changed'])} changed cell(s) to "
            f"translate ({', '.join(todo)})" if todo else "in step with the English text")
            + (f"; dropped {', '.join(changes['removed'])}" if changes["removed"] else ""))
    return 0


HUB_HELP = """The classroom in one command, as root on a Linux server, in the course folder:

    sudo .venv/bin/course hub --class-list class.csv

It makes (and leaves alone what is already right):
  - a system account for each student of the class list and for the teacher, with a
    password to hand out (printed once, kept in /srv/mnist-course/passwords.csv);
    students log in through the hub only (no SSH, no login shell) and may store
    --disk-mb MB each where the file system has user quotas on (status says if not);
  - the classroom's course, a copy of this one, in the teacher's home, with the class
    list in its gradebook; the teacher's JupyterLab opens there, with Formgrader;
  - the students' environment: JupyterLab with nbgrader's Assignments tab and the
    students' package (never the course);
  - nbgrader's exchange in its standard place, /usr/local/share/nbgrader/exchange, with
    the course's folders there belonging to the teacher;
  - JupyterHub (PAM logins, each user's server as their own account, each student's
    within memory and CPU limits), started in the background.
Then it prints the address. Next, as the teacher: course release; students fetch, work
and submit in the Assignments tab; course collect; course autograde; course return.

On a school network, serve HTTPS with the school's certificate, so that passwords and
cookies do not cross it in clear:

    sudo .venv/bin/course hub --class-list class.csv --certificate CERT.pem \\
        --key KEY.pem --port 443 --redirect-port 80

With a public name that points at this server and port 80 open to the internet, a
certificate from Let's Encrypt instead (certbot: pip install '.[letsencrypt]'):

    sudo .venv/bin/course hub --class-list class.csv --letsencrypt HOST.NAME \\
        --acme-email YOU@SCHOOL --redirect-port 80

and renew it daily (it asks only when due, then restarts the hub), e.g. in
/etc/cron.d/course-hub-certificate:

    17 3 * * * root /path/to/course/.venv/bin/course hub renew-certificate

Run it again with a longer class list to add students (they can log in at once);
what you do not give again (address, certificate) stays as it was."""


def _hub_state(options) -> Path:
    from course_lib.teacher import hub

    return options.state or hub.STATE_DIR


def _hub_status(options) -> int:
    from course_lib.teacher import hub

    print(hub.status(_hub_state(options)))
    return 0


def _hub_stop(options) -> int:
    from course_lib.teacher import hub

    log.info("Stopped: students cannot log in until `course hub` starts it again (their "
             "running JupyterLabs and files stay)." if hub.stop(_hub_state(options))
             else "The classroom server was not running.")
    return 0


def _hub_remove(options) -> int:
    from course_lib.teacher import hub

    hub.remove(_hub_state(options), report=log.info)
    log.info("Removed the classroom server, its accounts and its files.")
    return 0


def _hub_renew_certificate(options) -> int:
    from course_lib.teacher import hub_certificate

    hub_certificate.renew_certificate(_hub_state(options), report=log.info)
    return 0


def _hub(options) -> int:
    from course_lib.teacher import hub, hub_certificate

    state = _hub_state(options)
    letsencrypt = hub_certificate.request_from_options(
        options.letsencrypt, options.acme_email, options.acme_directory)
    if options.class_list is None:
        raise CourseError("Give the class list: course hub --class-list CLASS.csv "
                          "(columns id and name). `course hub -h` says what it sets up.")
    running = hub.running_pid(state) is not None
    before = (state / "jupyterhub_config.py").read_bytes() if running else b""
    # Its report holds the passwords, printed once: on standard output whatever the level.
    settings = hub.setup(options.course, options.class_list, state=state,
                         teacher=options.teacher, ip=options.ip, port=options.port,
                         certificate=options.certificate, key=options.key,
                         redirect_port=options.redirect_port, disk_mb=options.disk_mb,
                         letsencrypt=letsencrypt)
    if running and (state / "jupyterhub_config.py").read_bytes() != before:
        log.warning("The classroom server runs with its previous address or certificate: "
                    "to use the new ones, run `course hub stop` and then `course hub` (the "
                    "students' open JupyterLabs and their files stay). The class list is up "
                    "to date already: new students can log in now.")
    hub.start(state, report=log.info)
    print(f"Hand each student: the address {settings.url}, their account name and its "
          f"password (above; all in {state / 'passwords.csv'}).\n"
          f"The teacher logs in as {settings.teacher}; the classroom's course is "
          f"{settings.course_dir}. Release the assignment there: course release")
    return 0


def _release(options) -> int:
    from course_lib.teacher import course

    course.release(options.course, options.assignment)
    log.info("Released: students fetch the assignment in their Assignments tab.")
    return 0


def _collect(options) -> int:
    from course_lib.teacher import course
    from course_lib.teacher.collect import collect
    from course_lib.teacher.course import require_course

    if not options.sources and (options.moodle or options.canvas):
        raise CourseError("Give the download too: course collect DOWNLOAD.zip --moodle "
                          "WORKSHEET.csv (or --canvas EXPORT.csv).")
    if not options.sources:
        students = course.collect_from_exchange(options.course, options.assignment,
                                                report=_by_prefix)
        print(f"Collected {len(students)} submission(s) from the exchange: "
              f"{', '.join(students) or 'none yet'}")
        return 0 if students else 1
    result = collect(options.sources, require_course(options.course), options.assignment,
                     moodle=options.moodle, canvas=options.canvas,
                     timezone_name=options.timezone)
    for problem in result.skipped:
        log.warning("skipped %s", problem)
    for note in result.notes:
        log.info("note: %s", note)
    if not result.students:
        log.error("Collected no submissions.")
        return 1
    shown = [f"{s} ({result.names[s]})" if result.names.get(s) else s for s in result.students]
    print(f"Collected {len(result.students)} submission(s): {', '.join(shown)}")
    return 0


def _by_prefix(line: str) -> None:
    """A library step's message to the log, at the level its prefix says."""
    if line.startswith("warning: "):
        log.warning(line.removeprefix("warning: "))
    elif line.startswith("skipped "):
        log.warning(line)
    else:
        log.info(line)


def _student_id(text: str) -> str:
    """A student id from the command line, refused before anything runs if it is unsafe."""
    from course_lib.teacher.student_ids import check_student_id

    try:
        return check_student_id(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _autograde(options) -> int:
    from course_lib.teacher.autograde import autograde

    assignment = _chosen_assignment(options)
    # Flags not given (None) leave the course's c.CourseAutograde settings in force.
    outcomes = autograde(options.course, options.students or None, assignment=assignment,
                         unsandboxed=options.unsandboxed, workers=options.workers,
                         force=options.force, scheduler=options.scheduler,
                         certificates=options.certificates,
                         insecure_plain_tcp=options.insecure_plain_tcp,
                         report=log.info, warn=log.warning)
    from course_lib.teacher.leaderboard import publish

    log.info(f"The leaderboard: {publish(options.course, assignment)} (course leaderboard)")
    failed = [o.student for o in outcomes if not o.ok]
    if failed and not log.isEnabledFor(logging.INFO):
        # The closing summary that says why is progress, hidden now: still say who.
        log.error(f"Not graded: {', '.join(failed)}. Run again without --quiet to see why.")
    return 1 if failed else 0


def _leaderboard(options) -> int:
    from course_lib.teacher.course import require_course
    from course_lib.teacher.leaderboard import (
        assignment_language,
        build_board,
        page,
        publish,
        table,
    )

    course = require_course(options.course)
    assignment = _chosen_assignment(options)
    language = options.language or assignment_language(course, assignment)
    board = build_board(course, assignment)
    print(table(board, language, show_ids=options.show_ids))
    for student, why in sorted(board.refused_names.items()):
        log.info(f"{student}'s chosen name is not shown ({why}): anonymous instead.")
    print(f"\nThe page: {publish(course, assignment, language)}")
    if options.html:
        options.html.write_text(page(board, language), encoding="utf-8")
        print(f"and {options.html}")
    return 0


def _chosen_assignment(options) -> str:
    """The assignment named after the command (nbgrader's shape), else ``--assignment``.

    Before, the words after ``course autograde`` were students: a name that is no assignment
    of this course is refused with the new way to write it, never graded as an assignment.
    """
    name = options.assignment_name or options.assignment
    known = sorted(p.name for p in (options.course / "source").glob("*") if p.is_dir())
    if options.assignment_name and known and name not in known:
        raise CourseError(
            f"`course autograde {name}`: {name!r} is not an assignment of this course "
            f"({', '.join(known)}). Name the assignment first and the students with --student, "
            f"as nbgrader does: course autograde {known[0]} --student {name}")
    return name


def _cluster(options) -> int:
    import shlex
    import socket

    from course_lib.teacher import certificates as tls

    folder = options.folder or tls.default_folder(options.course)
    made, new = tls.make_certificates(folder)
    host = options.host or socket.getfqdn()
    address = f"tls://{host}:{tls.PORT}"
    print(("Made" if new else "Using") + f" the grading cluster's certificates in "
          f"{made.folder} (valid until {tls.expiry(made):%Y-%m-%d}; private keys readable "
          "by you only: keep them so).\n"
          f"\n1. On this computer, start the scheduler:\n"
          f"   {shlex.join(tls.scheduler_command(made))}\n"
          f"\n2. Copy the folder {made.worker_folder} to each grading machine (and to no "
          "other: it lets a machine join the cluster), then, in the folder that holds it:\n"
          f"   {shlex.join(tls.worker_command(address))}\n"
          f"\n3. Grade:\n   course autograde --scheduler {address}"
          + ("" if folder == tls.default_folder(options.course) else
             f" --certificates {shlex.quote(str(made.folder))}")
          + "\n\nA computer without these certificates cannot join; to replace them "
          f"(a worker folder was lost), delete {made.folder} and run this again.")
    return 0


def _feedback(options) -> int:
    from course_lib.teacher import course

    pages = course.feedback(options.course, options.assignment)
    print(f"Wrote {len(pages)} feedback page(s) in {options.course / 'feedback'}.")
    return 0


def _return(options) -> int:
    from course_lib.teacher import canvas, moodle, returns

    if options.moodle:
        done = moodle.return_to_moodle(options.course, options.moodle, options.into,
                                       assignment=options.assignment,
                                       replace_grades=options.replace_grades)
        upload = ("In the Moodle assignment: View all submissions ▸ Grading action ▸ Upload "
                  "grading worksheet (the .csv), then Upload multiple feedback files in a "
                  "zip (the .zip).")
    elif options.canvas:
        done = canvas.return_to_canvas(options.course, options.canvas, options.into,
                                       column=options.column, assignment=options.assignment,
                                       replace_grades=options.replace_grades)
        upload = ("In Canvas: Grades ▸ Import (the .csv), then in the assignment's column "
                  "menu: Re-upload Submissions (the .zip).")
    else:
        done = returns.release_feedback(options.course, options.assignment)
        upload = ""
    for note in done.notes:
        log.info("note: %s", note)
    for path in done.files if options.moodle or options.canvas else []:
        print(f"Wrote {path}")
    if upload:
        log.info(upload)
    return 0


def _export(options) -> int:
    from course_lib.teacher import course

    print(f"Grades written to {course.export(options.course, options.csv)}.")
    return 0


def _summary(options) -> int:
    from course_lib.teacher.summary import format_table, score_table

    print(format_table(*score_table(options.course, options.assignment)))
    return 0


def _package(options) -> int:
    from course_lib.teacher.package import build_student_wheel

    # `course package` hands the wheel out: a new content's version is written down.
    wheel = build_student_wheel(options.into, record=True)
    print(f"The students' package is {wheel}.")
    log.info(f"Students (or the JupyterHub's environment) install it with: pip install "
             f"{wheel.name}\n(it replaces an older version of the package; a wheel of the same "
             "content keeps its version)")
    return 0


def _demo(options) -> int:
    from course_lib.teacher.demo import run_demo

    result = run_demo(options.course, options.into, report=log.info)
    return 0 if all(outcome.ok for outcome in result["outcomes"]) else 1


def _data_status(options) -> int:
    from course_lib.lesson.offline import describe_available_data

    print(describe_available_data())
    return 0


def _data_fetch(options) -> int:
    from course_lib.lesson.offline import fetch_full_set

    try:
        path = fetch_full_set()
    except MnistFileError:
        raise
    except Exception as error:  # noqa: BLE001 - a network failure, told in plain words
        log.error(f"the download failed ({error}). Connect to the internet and try again, "
                  "or copy mnist.npz from another computer and run `course data import PATH`.")
        return 1
    print(f"The full MNIST is stored in {path}; the course will use it from now on.")
    return 0


def _data_import(options) -> int:
    from course_lib.lesson.offline import import_full_set

    path = import_full_set(options.path)
    print(f"Checked {options.path} and stored it as {path}; the course will use it from now on.")
    return 0


def _reference(options) -> int:
    from course_lib.teacher.training import train_reference

    started = time.perf_counter()
    result = train_reference(epochs=options.epochs)
    print(
        f"Reference CNN on {result['source']}: {result['epochs']} epochs on "
        f"{result['train_size']:,} images, test accuracy {result['test_accuracy']:.3f} "
        f"({time.perf_counter() - started:.0f} s)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
