"""What a teacher sees while a class is graded: a line per student, a live status line on a
terminal, and a closing summary with the command that retries the failed ones."""

from __future__ import annotations

import re
import sys
import threading
import time

from course_lib.teacher.student_ids import is_student_id


class Progress:
    """Progress lines a teacher can read: done, running, failed, time left.

    A line per finished student always; on a terminal (``live``), also a status line that
    is redrawn every second while students are being graded.
    """

    def __init__(self, total: int, report, live=None, assignment: str = "mnist_cnn"):
        self.total, self.report, self.assignment = total, report, assignment
        self.running: list[str] = []
        self.done = self.failed = 0
        self.started_at = time.perf_counter()
        self.live = live if live is not None else (
            sys.stdout if report is print and sys.stdout.isatty() else None)
        self._stop = threading.Event()
        if self.live is not None:
            threading.Thread(target=self._redraw, daemon=True).start()

    def status(self) -> str:
        """The state of the run in one line."""
        elapsed = time.perf_counter() - self.started_at
        left = f"about {elapsed / self.done * (self.total - self.done):.0f} s left" \
            if self.done else "time left: after the first student"
        return (f"[{self.done}/{self.total}] running: {', '.join(self.running) or '-'} | "
                f"failed: {self.failed} | elapsed {elapsed:.0f} s, {left}")

    def _redraw(self) -> None:
        while not self._stop.wait(1.0):
            self.live.write("\r\033[K" + self.status()[:200])
            self.live.flush()

    def close(self) -> None:
        """Stop redrawing the status line."""
        self._stop.set()
        if self.live is not None:
            self.live.write("\r\033[K")
            self.live.flush()

    def started(self, student: str) -> None:
        """A submission is being graded."""
        self.running.append(student)

    def finished(self, outcome) -> None:
        """A submission is done: one line with the state of the whole run."""
        self.running.remove(outcome.student)
        self.done += 1
        self.failed += not outcome.ok
        elapsed = time.perf_counter() - self.started_at
        left = elapsed / self.done * (self.total - self.done)
        state = "graded" if outcome.ok else "NOT graded"
        if self.live is not None:
            self.live.write("\r\033[K")
        self.report(f"[{self.done}/{self.total}] {outcome.student}: {state} in "
                    f"{outcome.seconds:.0f} s | running: {', '.join(self.running) or '-'} | "
                    f"failed: {self.failed} | elapsed {elapsed:.0f} s, about {left:.0f} s left"
                    + ("" if outcome.ok else f"\n{outcome.message}"))

    def summary(self, outcomes) -> None:
        """The closing lines: who failed and why, and the command that retries just them."""
        self.close()
        failed = [o for o in outcomes if not o.ok]
        elapsed = time.perf_counter() - self.started_at
        self.report(f"Graded {len(outcomes) - len(failed)} of {len(outcomes)} in "
                    f"{elapsed:.0f} s.")
        for outcome in failed:
            self.report(f"  not graded: {outcome.student}: {failure_reason(outcome.message)}")
        # A refused id cannot be graded again as it is: its folder needs a new name first.
        retry = [o.student for o in failed if is_student_id(o.student)]
        if retry:
            self.report(f"Retry just these: course autograde {self.assignment} --force "
                        + " ".join(f"--student {student}" for student in retry))


_RAISED = re.compile(r"^(?:[A-Za-z_]\w*\.)*(?P<name>[A-Za-z_]\w*): (?P<said>\S.*)$")


def failure_reason(message: str) -> str:
    """Why a grading failed, in one line: the error a traceback in ``message`` ends in
    (nbgrader's own last lines only say to look above), or else its last line."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    raised = [match for match in map(_RAISED.match, lines) if match]
    if raised:
        return f"{raised[-1]['name']}: {raised[-1]['said']}"
    return lines[-1] if lines else "no message"
