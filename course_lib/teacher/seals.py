"""A worker's result is recorded only if it answers a task the coordinator sent.

Each task carries a fresh secret token (:func:`new_token`). The worker seals what it brings
back (:func:`seal`): an HMAC, keyed with that token, over the assignment, the student,
whether grading succeeded and every graded notebook's name and bytes. The coordinator
(:func:`refusal`) accepts the result only if it names the student and assignment it sent
and the seal matches: a result made up elsewhere, altered on the way, or swapped with
another student's, is refused, and that student counts as not graded.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """A fresh secret for one task."""
    return secrets.token_hex(32)


def seal(token: str, student: str, assignment: str, ok: bool,
         notebooks: dict[str, bytes]) -> str:
    """The seal of a result: HMAC-SHA256 with the task's token over all it says."""
    mac = hmac.new(token.encode(), digestmod=hashlib.sha256)
    parts = [b"mnist-cnn-course graded result v1", assignment.encode(), student.encode(),
             b"ok" if ok else b"failed"]
    for name in sorted(notebooks):
        parts += [name.encode(), notebooks[name]]
    for part in parts:
        # Each part's length first: no two different results read as the same bytes.
        mac.update(len(part).to_bytes(8, "big"))
        mac.update(part)
    return mac.hexdigest()


def refusal(result, token: str, student: str, assignment: str) -> str | None:
    """Why ``result`` (a ``WorkerResult``) is refused for the task sent for ``student``;
    ``None`` if it is that task's own, unaltered."""
    said = {name: getattr(result, name, None)
            for name in ("student", "assignment", "ok", "notebooks", "seal")}
    notebooks = said["notebooks"]
    if not (isinstance(said["seal"], str) and isinstance(said["ok"], bool)
            and isinstance(notebooks, dict)
            and all(isinstance(k, str) and isinstance(v, bytes) for k, v in notebooks.items())):
        return "it is not a graded result of this course's tasks"
    if (said["student"], said["assignment"]) != (student, assignment):
        return (f"it is for {said['student']!r} ({said['assignment']}), but the task sent "
                f"was for {student!r} ({assignment})")
    expected = seal(token, student, assignment, said["ok"], notebooks)
    if not hmac.compare_digest(expected.encode(), said["seal"].encode()):
        return "its seal does not match the task that was sent (made elsewhere, or altered)"
    return None
