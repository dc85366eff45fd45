"""Does the execute step run a notebook to the end whatever it does, hand each test cell's
values to the checker, and keep outputs within bounds? A plain kernel stands in for the
sandboxed one and a stand-in for the checker records what it is given."""

from __future__ import annotations

import nbformat
import pytest
from jupyter_client.manager import AsyncKernelManager
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.tests import create_grade_cell

from course_lib.autograder import execute
from course_lib.autograder.execute import OUTPUT_BYTES_PER_CELL, GradeInSandbox
from course_lib.autograder.handover import Verdict


class RecordingChecker:
    """Passes every cell and remembers what it was asked."""

    asked: list = []

    def __init__(self, **options):
        RecordingChecker.asked = []

    def check(self, cells, submission, language):
        RecordingChecker.asked = cells
        RecordingChecker.language = language
        return [Verdict(cell.grade_id, True) for cell in cells]

    def close(self):
        pass


@pytest.fixture
def run(monkeypatch, tmp_path):
    """Grade a notebook with the execute step, unsandboxed, on a plain Python kernel."""
    monkeypatch.setattr(execute, "Checker", RecordingChecker)
    shutdowns = []  # for each kernel: was it ended at once (True) or asked first (False)?
    shut_down = AsyncKernelManager.shutdown_kernel  # the sandbox's manager's too

    async def recording(manager, now=False, restart=False):
        shutdowns.append(now)
        await shut_down(manager, now=now, restart=restart)

    monkeypatch.setattr(AsyncKernelManager, "shutdown_kernel", recording)

    def grade(cells, language=None, **options):
        notebook = new_notebook(cells=cells, metadata={"kernelspec": {
            "name": "python3", "display_name": "Python 3", "language": "python"}})
        if language:
            notebook.metadata["course_lib"] = {"language": language}
        options.setdefault("timeout", 60)
        shutdowns.clear()
        step = GradeInSandbox(require_sandbox=False, **options)
        graded, _ = step.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
        return graded
    grade.shutdowns = shutdowns
    return grade


def test_test_cells_hand_over_what_they_read_and_never_run_in_the_kernel(run):
    graded = run([new_code_cell("x = 3"),
                  create_grade_cell("assert x == 3\nprint('ran in the kernel')", "code",
                                    "test_x", 1)])
    [asked] = RecordingChecker.asked
    assert asked.grade_id == "test_x" and asked.handed_over.values["x"].data == 3
    assert graded.cells[1].outputs == []  # the verdict: passed, nothing printed


def test_a_kernel_that_dies_keeps_what_ran_and_says_where_it_stopped(run):
    graded = run([new_code_cell("x = 3"),
                  create_grade_cell("assert x == 3", "code", "test_before", 1),
                  new_code_cell("import os\nos._exit(1)"),
                  create_grade_cell("assert x == 3", "code", "test_after", 1)])
    before, after = RecordingChecker.asked
    assert before.handed_over.problem is None and "x" in before.handed_over.values
    assert "the Python kernel died in cell 3" in after.handed_over.problem
    [died] = graded.cells[2].outputs
    assert died["ename"] == "KernelDied"
    assert died["evalue"].startswith("The notebook stopped running here")


def test_a_kernel_that_does_not_answer_after_the_time_limit_stops_the_notebook(run):
    """A cell past its time limit is interrupted; a kernel that then does not report back
    (here it ignores the interrupt; a fork bomb's children on a busy machine do the same)
    stops the notebook there, as a death does: what ran keeps its values, the submission
    is still graded. The limit named is the cell's own (``timeout_func`` gives it)."""
    graded = run([new_code_cell("x = 3"),
                  create_grade_cell("assert x == 3", "code", "test_before", 1),
                  new_code_cell("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                "while True:\n    pass"),
                  create_grade_cell("assert x == 3", "code", "test_after", 1)],
                 timeout=60, timeout_func=lambda cell: 2 if "SIG_IGN" in cell.source else 60)
    before, after = RecordingChecker.asked
    assert before.handed_over.problem is None and "x" in before.handed_over.values
    assert after.handed_over.problem == ("the Python kernel did not answer after cell 3 was "
                                         "stopped at its time limit of 2 s")
    stopped = graded.cells[2].outputs[-1]
    assert stopped["evalue"].startswith("The notebook stopped running here")
    # Ended at once, not asked politely to shut down first (5 s it would not answer).
    assert run.shutdowns == [True]


def test_a_kernel_that_answers_is_asked_to_shut_down(run):
    """A kernel that answers is asked to shut down (and given the time to)."""
    run([new_code_cell("x = 3")])
    assert run.shutdowns == [False]


def test_a_dutch_notebook_is_told_in_dutch_and_the_grader_speaks_english_again(run):
    """The grader's own words follow the notebook's language: its metadata, for the
    checker too; the next notebook, without it, is graded in English."""
    from course_lib.lesson.language import current_language

    graded = run([new_code_cell("import os\nos._exit(1)"),
                  create_grade_cell("assert x == 3", "code", "test_after", 1)], language="nl")
    [after] = RecordingChecker.asked
    assert RecordingChecker.language == "nl"
    assert after.handed_over.problem.startswith("de Python-kernel stopte onverwacht in cel 1")
    assert graded.cells[0].outputs[0]["evalue"].startswith("De notebook stopte hier: ")
    assert current_language() == "en"
    run([create_grade_cell("assert True", "code", "test_plain", 1)])
    assert RecordingChecker.language == "en"


def test_a_flood_of_output_is_cut(run):
    graded = run([new_code_cell("for _ in range(4000):\n    print('x' * 1000)")])
    text = "".join(output.get("text", "") for output in graded.cells[0].outputs)
    assert "[output cut: this cell printed too much]" in text
    assert len(text) < OUTPUT_BYTES_PER_CELL + 10_000


def test_a_replay_of_another_version_of_the_notebook_is_refused(tmp_path):
    """The coordinator records a worker's graded copy only if it is of this very notebook."""
    worker_copy = new_notebook(cells=[new_code_cell("x = 4")])
    nbformat.write(worker_copy, tmp_path / "lesson.ipynb")
    step = GradeInSandbox(replay_folder=str(tmp_path))
    with pytest.raises(RuntimeError, match="of another version of this notebook"):
        step.preprocess(new_notebook(cells=[new_code_cell("x = 3")]),
                        {"unique_key": "lesson", "metadata": {"path": str(tmp_path)}})


def test_a_notebook_full_of_output_is_cut_as_a_whole(run):
    """Is output capped for the whole notebook, not only per cell, and is the cut said once
    in each cell it reaches?"""
    shout = "from IPython.display import HTML, display\n" \
            "for _ in range(4):\n    display(HTML('<p>' + 'x' * 200_000 + '</p>'))\n"
    graded = run([new_code_cell(shout), new_code_cell(shout), new_code_cell(shout),
                  new_code_cell("print('still running')")],
                 output_cell_mb=1, output_total_mb=1)
    kept = [sum(len(str(o)) for o in cell.outputs) for cell in graded.cells]
    assert sum(kept) <= 1024 * 1024 + 4 * 200
    assert len(graded.cells[0].outputs) == 4  # 800 KB: within both limits
    cut = [o for cell in graded.cells for o in cell.outputs
           if o.get("text", "").strip().startswith("[output cut")]
    assert [o.text.strip() for o in cut] == [
        "[output cut: this notebook's outputs passed 1 MB]"] * 2
    # A small output still fits, and the notebook ran to its end.
    assert graded.cells[3].outputs[0].text == "still running\n"
