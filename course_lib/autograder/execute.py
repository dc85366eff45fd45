"""nbgrader's execute step for this course: run the notebook in the sandbox, judge elsewhere.

:class:`GradeInSandbox` takes the place of nbgrader's ``Execute`` in the autograde
pipeline (``nbgrader_config.py``). For one submission it

1. starts the student's kernel in the grading sandbox (:mod:`course_lib.autograder.kernel`), in a
   fresh copy of the submission: nothing the kernel writes reaches ``autograded/``;
2. runs the student's cells; where a test cell stands, it does not run it but asks the
   kernel for the values that cell reads (:mod:`course_lib.autograder.handover`);
3. if the kernel dies, or does not answer after a cell was stopped at its time limit,
   keeps what ran before and marks where the notebook stopped;
4. has every test cell run by the checker (:mod:`course_lib.autograder.checker`) in a fresh process
   (started at the beginning, so that it is ready when the notebook is done), and writes
   each verdict as that cell's output, which nbgrader's ``SaveAutoGrades``
   turns into its score.
"""

from __future__ import annotations

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, output_from_msg
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, Unicode

from course_lib.autograder import limits as limits_module
from course_lib.autograder.checker import Checker
from course_lib.autograder.handover import (
    MEASURED_KEY,
    CellToCheck,
    HandedOver,
    is_test_cell,
    keep_measured,
    needed_names,
    request_code,
)
from course_lib.autograder.language import _
from course_lib.autograder.retrain import raise_if_stopped
from course_lib.autograder.sandbox import course_lib_conflict, sandbox_problem
from course_lib.lesson.language import notebook_language, speaking

OUTPUT_BYTES_PER_CELL = 2 * 1024 * 1024  # a cell's printed text kept for the feedback
MB = 1024 * 1024


class GradeInSandbox(Execute):
    """Execute a submission in the sandbox and score its test cells in a sealed checker."""

    require_sandbox = Bool(True, help=(
        "Refuse to grade where the sandbox cannot run, instead of running student code "
        "with the teacher's rights")).tag(config=True)
    memory_mb = Integer(limits_module.Limits.memory_mb,
                        help="memory one grading kernel may use (MB)").tag(config=True)
    processes = Integer(limits_module.Limits.processes,
                        help="processes and threads one grading kernel may run").tag(config=True)
    file_size_mb = Integer(limits_module.Limits.file_size_mb,
                           help="the largest file a grading kernel may write (MB)"
                           ).tag(config=True)
    tmp_size_mb = Integer(limits_module.Limits.tmp_size_mb,
                          help="temporary space of a grading kernel (MB)").tag(config=True)

    output_cell_mb = Integer(16, help=(
        "The largest pictures and other displayed output one cell keeps (MB); a cell's "
        "printed text is cut at 2 MB")).tag(config=True)
    output_total_mb = Integer(48, help=(
        "The largest output a whole notebook keeps (MB): past it, every further output is "
        "cut, with a line saying so")).tag(config=True)

    training_budget_seconds = Float(0, help=(
        "The tuned network's training budget in seconds when the grader retrains its "
        "recipe; 0 takes the data profile's (course_lib/lesson/settings.py)")).tag(config=True)

    checking_timeout_seconds = Float(0, help=(
        "How long the grader waits for the checking process (all test cells, the tuned "
        "network's retraining included), in seconds; past it the submission is not graded, "
        "never scored 0. 0: the training budget plus 10 minutes, at least 30 minutes"
    )).tag(config=True)

    replay_folder = Unicode("", help=(
        "A folder with this submission's notebook as a grading worker already graded it "
        "(course_lib.teacher.autograde): its outputs are taken instead of running the notebook "
        "again, so that only the coordinator writes the gradebook")).tag(config=True)

    @property
    def limits(self) -> limits_module.Limits:
        """The limits set in the configuration."""
        return limits_module.Limits(self.memory_mb, self.processes, self.file_size_mb,
                                    self.tmp_size_mb)

    def preprocess(self, nb, resources=None, km=None):
        """Run the notebook, then judge its test cells; return the graded notebook."""
        if self.replay_folder:
            return self._replay(nb, resources), resources
        # What the grader says in the notebook (a kernel's death, a failed check) is in
        # the notebook's language.
        language = notebook_language(nb)
        with speaking(language):
            return self._grade(nb, resources, km, language)

    def _grade(self, nb, resources, km, language: str):
        conflict = course_lib_conflict()
        if conflict:
            raise RuntimeError(f"Not grading: {conflict}.")
        problem = sandbox_problem()
        self.sandboxed = problem is None
        if problem and self.require_sandbox:
            raise RuntimeError(
                f"Not grading: {problem}. Student code would run with your rights. Install "
                "bubblewrap, or grade knowingly without a sandbox with `course autograde "
                "--unsandboxed`.")
        unlimited = limits_module.root_without_group() if self.sandboxed else None
        if unlimited:
            raise RuntimeError(f"Not grading: {unlimited}.")
        if problem:
            self.log.warning("GRADING WITHOUT A SANDBOX (%s): student code runs with your "
                             "rights.", problem)
        self._submission = resources.get("metadata", {}).get("path") or "."
        self._to_check: list[CellToCheck] = []
        self._stopped: str | None = None
        self._output_bytes: dict[int, int] = {}
        self._output_total = 0
        self._cut: set[int] = set()
        if self.sandboxed:
            from course_lib.autograder.kernel import SandboxKernelManager

            self.kernel_manager_class = SandboxKernelManager
        checker = Checker(sandboxed=self.sandboxed, limits=self.limits, log=self.log.info,
                          training_budget_seconds=self.training_budget_seconds,
                          timeout_seconds=self.checking_timeout_seconds)
        self._managers: list = []
        shutdown = self.shutdown_kernel
        try:
            nb, resources = self._run_with_scratch_copy(nb, resources, km)
            verdicts = checker.check(self._to_check, self._submission, language)
        finally:
            self.shutdown_kernel = shutdown
            checker.close()
            for manager in self._managers:
                manager.release()
        raise_if_stopped(verdicts)  # a check this machine could not finish: not graded
        by_id = {verdict.grade_id: verdict for verdict in verdicts}
        for cell in nb.cells:
            if is_test_cell(cell):
                verdict = by_id.get(cell.metadata.nbgrader["grade_id"])
                cell.outputs = [NotebookNode(o) for o in verdict.as_outputs()] if verdict \
                    else []
                keep_measured(cell, verdict.measured if verdict else None)
        return nb, resources

    def _replay(self, nb, resources):
        """Take every cell's outputs from the worker's graded copy of this same notebook."""
        from pathlib import Path

        import nbformat

        name = resources.get("unique_key", "") + ".ipynb"
        graded = nbformat.read(Path(self.replay_folder) / name, as_version=4)
        if [c.source for c in graded.cells] != [c.source for c in nb.cells]:
            raise RuntimeError(f"The graded copy in {self.replay_folder} is of another "
                               "version of this notebook: grade this student again.")
        for cell, done in zip(nb.cells, graded.cells, strict=True):
            if cell.cell_type == "code":
                cell.outputs = done.outputs
                cell.execution_count = done.execution_count
                keep_measured(cell, done.metadata.get(MEASURED_KEY))
        return nb

    def _run_with_scratch_copy(self, nb, resources, km):
        if self.sandboxed:
            # The sandbox copies the submission into its own memory-backed folder.
            return super().preprocess(nb, resources, km)
        import tempfile
        from pathlib import Path

        from course_lib.autograder.sandbox import copy_submission

        with tempfile.TemporaryDirectory(prefix="course-scratch-") as scratch:
            copy_submission(Path(self._submission), Path(scratch))
            resources.setdefault("metadata", {})["path"] = scratch
            try:
                return super().preprocess(nb, resources, km)
            finally:
                resources["metadata"]["path"] = self._submission

    def create_kernel_manager(self):
        """Create the kernel manager; the sandboxed one learns the submission's folder."""
        manager = super().create_kernel_manager()
        if self.sandboxed:
            manager.handed_in = str(self._submission)
            manager.limits = self.limits
            self._managers.append(manager)
        return manager

    def preprocess_cell(self, cell, resources, index):
        """Run a student cell, or ask the kernel for a test cell's values; survive a death."""
        if self._stopped:
            if is_test_cell(cell):
                self._queue(cell, HandedOver.stopped(self._stopped))
            return cell, resources
        try:
            if is_test_cell(cell):
                self._hand_over(cell, index)
                return cell, resources
            return super().preprocess_cell(cell, resources, index)
        except (DeadKernelError, CellTimeoutError) as error:
            # A kernel that does not report back after its cell was interrupted at the time
            # limit (it ignores the interrupt, or a fork bomb's children keep it busy) can
            # no more be trusted than a dead one: the notebook stops there, as if it died.
            self._stopped = self._death_message(index) if isinstance(
                error, DeadKernelError) else self._unanswered_message(index, cell)
            if isinstance(error, CellTimeoutError):
                # It would not answer a polite shutdown request either: no wait for one
                # (5 s, then a kill anyway). Set back for the next notebook in _grade.
                self.shutdown_kernel = "immediate"
            said = _("The notebook stopped running here: {problem}").format(
                problem=self._stopped)
            cell.setdefault("outputs", []).append(NotebookNode(
                output_type="error", ename="KernelDied", evalue=said, traceback=[said]))
            if is_test_cell(cell):
                self._queue(cell, HandedOver.stopped(self._stopped))
            return cell, resources

    def _hand_over(self, cell, index) -> None:
        names = needed_names(cell.source)
        request = new_code_cell(request_code(names))
        try:
            self.execute_cell(request, index, store_history=False)
        finally:
            self.nb.cells[index] = cell  # nbclient stores the cell it ran in its place
        self._queue(cell, HandedOver.from_outputs(request.outputs, names))

    def _queue(self, cell, handed_over: HandedOver) -> None:
        self._to_check.append(CellToCheck(cell.metadata.nbgrader["grade_id"], cell.source,
                                          handed_over))

    def _unanswered_message(self, index: int, cell) -> str:
        # The cell's own limit: a teacher's ``timeout_func`` may give cells different ones.
        return _("the Python kernel did not answer after cell {number} was stopped at its "
                 "time limit of {seconds} s").format(number=index + 1,
                                                     seconds=self._get_timeout(cell))

    def _death_message(self, index: int) -> str:
        manager = self.km
        if manager is not None and getattr(manager, "out_of_memory", lambda: False)():
            return _("the Python kernel was stopped in cell {number} because it used more "
                     "than the {memory:,} MB of memory it may use").format(
                number=index + 1, memory=self.memory_mb)
        return _("the Python kernel died in cell {number} (it ran out of memory, crashed, "
                 "or the code ended it)").format(number=index + 1)

    def output(self, outs, msg, display_id, cell_index):
        """Keep outputs within bounds: per cell, and for the whole notebook, so that a flood
        of prints or pictures cannot fill the grader's memory or the graded notebook."""
        out = output_from_msg(msg) if msg["msg_type"] in (
            "stream", "display_data", "execute_result", "error",
            "update_display_data") else None
        if out is None:
            return super().output(outs, msg, display_id, cell_index)
        size = len(str(out))
        used = self._output_bytes.get(cell_index, 0)
        cell_limit = OUTPUT_BYTES_PER_CELL if msg["msg_type"] == "stream" \
            else self.output_cell_mb * MB
        total_limit = self.output_total_mb * MB
        if used + size > cell_limit or self._output_total + size > total_limit:
            if cell_index not in self._cut:
                self._cut.add(cell_index)
                whole = self._output_total + size > total_limit
                said = _("[output cut: this notebook's outputs passed {size:,} MB]").format(
                    size=self.output_total_mb) if whole else \
                    _("[output cut: this cell printed too much]")
                outs.append(NotebookNode(output_type="stream", name="stdout",
                                         text=f"\n{said}\n"))
            return None
        self._output_bytes[cell_index] = used + size
        self._output_total += size
        return super().output(outs, msg, display_id, cell_index)
