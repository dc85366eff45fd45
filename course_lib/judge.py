"""The checker: runs every test cell of a submission in a fresh, sealed process.

Run as ``python -I -m course_lib.judge REQUEST.json`` (in the grading sandbox when it is
available), with the values that the student's kernel handed over
(:mod:`course_lib.handover`). No student code ever runs in this process: it loads the
test data through the grader's own settings, defines ``np``, ``keras``, ``layers`` and
``profile`` itself, and runs each test cell's code, visible and hidden parts, as the
gradebook has it. It prints one JSON list of verdicts as its last line.

:func:`check_cells` starts it from the grader's side.
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

from course_lib.handover import (
    CellToCheck,
    Verdict,
    load_value,
    read_verdicts,
    verdicts_json,
    write_request,
)
from course_lib.limits import ControlGroup, Limits, start_function

JUDGE_TIMEOUT_SECONDS = 30 * 60  # all test cells, the tuned network's retraining included


def check_cells(cells: list[CellToCheck], *, sandboxed: bool, limits: Limits,
                log=None) -> list[Verdict]:
    """Check ``cells`` in a fresh process; a checker that fails fails every cell, loudly."""
    grade_ids = [cell.grade_id for cell in cells]
    with tempfile.TemporaryDirectory(prefix="course-check-") as folder:
        request = write_request(cells, Path(folder) / "request")
        command = [sys.executable, "-I", "-m", "course_lib.judge", str(request)]
        group = ControlGroup.create(limits) if sandboxed else None
        try:
            if sandboxed:
                from course_lib.sandbox import bwrap_arguments

                command = [*bwrap_arguments(read_only=[request.parent],
                                                   tmp_size_mb=limits.tmp_size_mb), "--", *command]
                environment = None
            else:
                from course_lib.sandbox import allowed_environment

                environment = {**allowed_environment(), "HOME": folder, "TMPDIR": folder,
                               "MPLCONFIGDIR": folder, "KERAS_HOME": folder,
                               "IPYTHONDIR": folder}
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=environment,
                                  timeout=JUDGE_TIMEOUT_SECONDS, check=False,
                                  preexec_fn=start_function(limits, group), cwd=folder)
        except subprocess.TimeoutExpired:
            return _all_failed(grade_ids, f"checking took longer than "
                                          f"{JUDGE_TIMEOUT_SECONDS} s")
        finally:
            if group is not None:
                group.remove()
    if log:
        log(f"checked {len(cells)} test cells in {time.perf_counter() - started:.0f} s")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        if log:
            log(f"the checking process failed: {done.stderr[-2000:]}")
        return _all_failed(grade_ids, f"the checking process stopped ({reason})")
    return read_verdicts(lines[-1], grade_ids)


def _all_failed(grade_ids: list[str], reason: str) -> list[Verdict]:
    return [Verdict(g, False, "GradingError", f"Your answers could not be checked: {reason}. "
                                              "Tell your teacher.") for g in grade_ids]


# ---- inside the checking process -------------------------------------------------------

def checker_namespace() -> dict:
    """What every test cell finds defined: the libraries and the grader's data profile."""
    import keras
    import numpy as np
    from keras import layers

    from course_lib.data import load_mnist
    from course_lib.settings import profile_for

    _, _, source = load_mnist(quiet=True)
    return {"np": np, "keras": keras, "layers": layers, "profile": profile_for(source),
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
            namespace[name] = load_value(value, folder)
        except Exception as error:  # noqa: BLE001 - a value we cannot read is unanswered
            return Verdict(grade_id, False, "TypeError",
                           f"`{name}` could not be read by the grader "
                           f"({type(error).__name__}: {error}).")
    try:
        exec(compile(entry["source"], f"<test {grade_id}>", "exec"), namespace)  # noqa: S102
    except BaseException as error:  # noqa: BLE001 - every failure is the cell's verdict
        return Verdict(grade_id, False, type(error).__name__, str(error))
    return Verdict(grade_id, True)


def main(argv: list[str]) -> int:
    """Check the cells of the request file ``argv[0]``; print the verdicts as JSON."""
    if len(argv) != 1:
        print("usage: python -I -m course_lib.judge REQUEST.json", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    request = Path(argv[0])
    entries = json.loads(request.read_text())
    verdicts = []
    # Whatever the checks print (Keras progress, warnings) stays off the verdict line.
    with contextlib.redirect_stdout(sys.stderr):
        base = checker_namespace()
        for entry in entries:
            verdicts.append(run_cell(entry, request.parent, base))
    print(verdicts_json(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
