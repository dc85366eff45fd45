"""The checker: runs every test cell of a submission in a fresh, sealed process.

Run as ``python -I -m course_lib.judge FOLDER`` (in the grading sandbox when it is
available); it prepares, waits for "go" on its input, then reads ``FOLDER/request.json``
and the values that the student's kernel handed over
(:mod:`course_lib.handover`). No student code ever runs in this process: it loads the
test data through the grader's own settings, defines ``np``, ``keras``, ``layers`` and
``profile`` itself, learns which own digit pictures count
(:mod:`course_lib.own_digits`), and runs each test cell's code, visible and hidden parts, as the
gradebook has it. It prints one JSON list of verdicts as its last line.

:class:`Checker` starts it from the grader's side.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course_lib import own_digits
from course_lib.handover import (
    CellToCheck,
    Verdict,
    load_value,
    read_verdicts,
    verdicts_json,
    write_request,
)
from course_lib.limits import ControlGroup, Limits, start_function

OWN_DIGITS = "own_digits"  # the request's folder of digit pictures (course_lib.own_digits)
SETTINGS = "settings.json"  # the grader's settings the checks need (the training budget)

JUDGE_TIMEOUT_SECONDS = 30 * 60  # all test cells, the tuned network's retraining included


class Checker:
    """The checking process, started early so that it loads TensorFlow and the test data
    while the student's notebook still runs; :meth:`check` then hands it the cells."""

    def __init__(self, *, sandboxed: bool, limits: Limits, log=None,
                 training_budget_seconds: float = 0):
        self.log = log or (lambda message: None)
        self.training_budget_seconds = training_budget_seconds
        self.folder = tempfile.TemporaryDirectory(prefix="course-check-")
        self.request = Path(self.folder.name) / "request"
        self.request.mkdir()
        self.group = ControlGroup.create(limits) if sandboxed else None
        command = [sys.executable, "-I", "-m", "course_lib.judge", str(self.request)]
        environment = None
        if sandboxed:
            from course_lib.sandbox import bwrap_arguments

            command = [*bwrap_arguments(read_only=[self.request],
                                        tmp_size_mb=limits.tmp_size_mb), "--", *command]
        else:
            from course_lib.sandbox import allowed_environment

            scratch = self.folder.name
            environment = {**allowed_environment(), "HOME": scratch, "TMPDIR": scratch,
                           "MPLCONFIGDIR": scratch, "KERAS_HOME": scratch,
                           "IPYTHONDIR": scratch}
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=environment, cwd=self.folder.name,
            preexec_fn=start_function(limits, self.group))

    def check(self, cells: list[CellToCheck], submission: Path | str) -> list[Verdict]:
        """Check ``cells`` of the submission in folder ``submission`` (its graded copy).

        A checker that fails fails every cell, with the reason.
        """
        grade_ids = [cell.grade_id for cell in cells]
        write_request(cells, self.request)
        (self.request / SETTINGS).write_text(json.dumps(
            {"training_budget_seconds": self.training_budget_seconds}))
        own_digits.gather(Path(submission), self.request / OWN_DIGITS)
        waited = time.perf_counter()
        try:
            stdout, stderr = self.process.communicate("go\n", timeout=JUDGE_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            return _all_failed(grade_ids, f"checking took longer than "
                                          f"{JUDGE_TIMEOUT_SECONDS} s")
        finally:
            self.close()
        self.log(f"checked {len(cells)} test cells in {time.perf_counter() - waited:.0f} s "
                 f"(the checker started {waited - self.started:.0f} s before)")
        lines = stdout.strip().splitlines()
        if self.process.returncode != 0 or not lines:
            reason = (stderr.strip().splitlines() or [f"exit code {self.process.returncode}"]
                      )[-1]
            self.log(f"the checking process failed: {stderr[-2000:]}")
            return _all_failed(grade_ids, f"the checking process stopped ({reason})")
        return read_verdicts(lines[-1], grade_ids)

    def close(self) -> None:
        """Stop the process if it still runs, and remove what it used."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.group is not None:
            self.group.remove()
            self.group = None
        self.folder.cleanup()


def _all_failed(grade_ids: list[str], reason: str) -> list[Verdict]:
    return [Verdict(g, False, "GradingError", f"Your answers could not be checked: {reason}. "
                                              "Tell your teacher.") for g in grade_ids]


# ---- inside the checking process -------------------------------------------------------

def checker_namespace() -> dict:
    """What every test cell finds defined: the libraries and the grader's data profile."""
    import keras
    import numpy as np
    from keras import layers

    from course_lib import grading

    # Load the grader's data and the lesson's examples now, while the notebook still runs.
    data = grading._grading_data()
    grading.prepare_lesson_examples()
    return {"np": np, "keras": keras, "layers": layers, "profile": data["profile"],
            "__builtins__": __builtins__}


def run_cell(entry: dict, folder: Path, base: dict) -> Verdict:
    """Run one test cell's code with the handed-over values; return its verdict."""
    grade_id = entry["grade_id"]
    if entry.get("problem"):
        return Verdict(grade_id, False, "NotChecked",
                       f"The notebook stopped running before this check: {entry['problem']}")
    if entry["missing"]:
        names = ", ".join(f"`{n}`" for n in entry["missing"])
        return Verdict(grade_id, False, "NameError",
                       f"You have not defined {names} yet: when the notebook got to this "
                       "check, it had no such variable. Fill in the answer cells above, then "
                       "run the notebook from the top (Kernel > Restart and Run All).")
    if entry["refused"]:
        name, why = next(iter(entry["refused"].items()))
        return Verdict(grade_id, False, "TypeError",
                       f"`{name}` could not be handed to the grader: {why}.")
    namespace = dict(base)
    for name, value in entry["values"].items():
        try:
            namespace[name] = _load_once(value, folder)
        except Exception as error:  # noqa: BLE001 - a value we cannot read is unanswered
            return Verdict(grade_id, False, "TypeError",
                           f"`{name}` could not be read by the grader "
                           f"({type(error).__name__}: {error}).")
    try:
        exec(compile(entry["source"], f"<test {grade_id}>", "exec"), namespace)  # noqa: S102
    except BaseException as error:  # noqa: BLE001 - every failure is the cell's verdict
        return Verdict(grade_id, False, type(error).__name__, str(error))
    return Verdict(grade_id, True)


_loaded: dict[str, object] = {}


def _load_once(value: dict, folder: Path):
    """Load a handed-over value; the same network handed over for several cells once."""
    if value["kind"] != "keras":
        return load_value(value, folder)
    import hashlib

    key = hashlib.sha256((folder / Path(value["file"]).name).read_bytes()).hexdigest()
    if key not in _loaded:
        _loaded[key] = load_value(value, folder)
    return _loaded[key]


def main(argv: list[str]) -> int:
    """Check the cells of the request in folder ``argv[0]``; print the verdicts as JSON."""
    if len(argv) != 1:
        print("usage: python -I -m course_lib.judge FOLDER", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from course_lib import grading, retrain

    folder = Path(argv[0])
    verdicts = []
    # Whatever the checks print (Keras progress, warnings) stays off the verdict line.
    with contextlib.redirect_stdout(sys.stderr):
        base = checker_namespace()  # while the student's notebook still runs
        if sys.stdin.readline().strip() != "go":
            return 3
        base["handed_in_own_digits"] = own_digits.count(folder / OWN_DIGITS)
        settings = json.loads((folder / SETTINGS).read_text())
        grading.set_training_budget(settings.get("training_budget_seconds"))
        for entry in json.loads((folder / "request.json").read_text()):
            verdicts.append(run_cell(entry, folder, base))
    print(verdicts_json(verdicts), flush=True)
    if retrain.abandoned.is_set():
        # A training thread still runs and cannot be stopped from outside: end the
        # process now that the verdicts are out, and the training with it.
        sys.stderr.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
