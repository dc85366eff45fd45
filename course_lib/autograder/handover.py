"""The handover between a student's kernel and the checker: data only, never code.

While a submission is graded, the student's kernel never runs a test cell. Where a test
cell stands, the grader asks the kernel for the values that cell reads (found by reading
the cell's code), and the kernel answers with data:

* numbers, booleans, text and small lists/dicts of them as JSON;
* numeric arrays as ``.npy`` (no pickles);
* Keras models as ``.keras`` files (loaded by the checker in Keras' safe mode);
* a training ``History`` as its numbers.

After the notebook has run, the checker (:mod:`course_lib.autograder.checker`) runs every
test cell in a fresh, sealed process with those values in place. A kernel can hand over
wrong values, or none, but that only answers its own questions wrongly: it cannot change
how they are checked. This module holds the whole protocol: the kernel's side, the grader's
(:class:`HandedOver`, :class:`CheckRequest`) and the checker's (:func:`load_value`,
:class:`Verdict`).
"""

from __future__ import annotations

import ast
import base64
import builtins
import io
import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from course_lib.autograder.language import _
from course_lib.lesson.language import DEFAULT_LANGUAGE

MIME = "application/vnd.mnist-course.handover+json"
MAX_VALUE_BYTES = 64 * 1024 * 1024  # a 500,000-parameter model with Adam is about 6 MB
# Names the checker defines itself: they never come from the student's kernel.
PROVIDED_BY_CHECKER = frozenset({"np", "keras", "layers", "profile", "handed_in_own_digits"})
# The test cell's metadata where the grader keeps what its check measured (set or removed on
# every test cell at each grading, so a value a student put there never survives).
MEASURED_KEY = "mnist_course_measured"


# ---- what a test cell needs ------------------------------------------------------------

def is_test_cell(cell) -> bool:
    """An autograded test cell: graded, code, and not an answer cell."""
    from nbgrader import utils

    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def needed_names(source: str) -> list[str]:
    """The names a test cell reads but does not define: the values to ask the kernel for."""
    tree = ast.parse(source)
    defined, read = set(PROVIDED_BY_CHECKER) | set(dir(builtins)), []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            defined.add(node.id)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) \
                and node.id not in defined and node.id not in read:
            read.append(node.id)
    return read


def request_code(names: list[str]) -> str:
    """The one line the grader runs in the student's kernel in place of a test cell."""
    return (f"__import__('course_lib.autograder.handover', fromlist=['export']).export(globals(), "
            f"{names!r})")


# ---- the kernel's side -----------------------------------------------------------------

def export(namespace: dict, names: list[str]) -> None:
    """Publish the named values of ``namespace`` as one display message (kernel side)."""
    from IPython.display import publish_display_data

    payload = {"values": {}, "missing": [], "refused": {}}
    for name in names:
        if name not in namespace:
            payload["missing"].append(name)
            continue
        try:
            payload["values"][name] = _encode(namespace[name])
        except Exception as error:  # noqa: BLE001 - any value we cannot take is refused
            payload["refused"][name] = str(error)
    publish_display_data({MIME: payload})


def _encode(value) -> dict:
    import numpy as np

    if _is_keras_model(value):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.keras")
            value.save(path)
            return {"kind": "keras", "data": _base64(Path(path).read_bytes())}
    if type(value).__name__ == "History" and hasattr(value, "history"):
        return {"kind": "history", "data": _plain({"history": value.history,
                                                   "params": getattr(value, "params", {})})}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise ValueError(f"it is an array of {value.dtype}; the grader takes arrays of "
                             "numbers")
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return {"kind": "npy", "data": _base64(buffer.getvalue())}
    return {"kind": "json", "data": _plain(value)}


def _is_keras_model(value) -> bool:
    return hasattr(value, "layers") and hasattr(value, "save") and hasattr(value, "predict")


def _base64(data: bytes) -> str:
    if len(data) > MAX_VALUE_BYTES:
        raise ValueError(f"it takes {len(data):,} bytes; the grader takes at most "
                         f"{MAX_VALUE_BYTES:,}")
    return base64.b64encode(data).decode("ascii")


def _plain(value, depth: int = 0):
    """``value`` as JSON-ready data: numbers, booleans, text, None, lists and dicts of them."""
    import numpy as np

    if depth > 20:
        raise ValueError("it is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return {"int": str(int(value))} if abs(int(value)) >= 2**53 else int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.size <= 100_000:
        return _plain(value.tolist(), depth + 1)
    if isinstance(value, (list, tuple)):
        return [_plain(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {"dict": [[_plain(k, depth + 1), _plain(v, depth + 1)]
                         for k, v in value.items()]}
    raise ValueError(f"it is a {type(value).__name__}; the grader takes numbers, True/False, "
                     "text, arrays, lists and Keras models")


# ---- the grader's side -----------------------------------------------------------------

KINDS = ("json", "history", "npy", "keras")
BINARY_KINDS = ("npy", "keras")


@dataclass
class HandedValue:
    """One value as the kernel handed it over: its kind and its data, which is JSON for
    ``json`` and ``history``, and base64 text (or, in a written request, a file) for the
    binary kinds ``npy`` and ``keras``."""

    kind: str
    data: object = None
    file: str | None = None  # the file in the request's folder that holds binary data


@dataclass
class HandedOver:
    """What the kernel handed over for one test cell, checked for form (not for truth)."""

    values: dict[str, HandedValue] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # name -> why it was not taken
    problem: str | None = None  # the whole handover failed: why

    @classmethod
    def from_outputs(cls, outputs: list, names: list[str]) -> HandedOver:
        """Read the kernel's answer from the outputs of the handover request."""
        for output in outputs:
            if output.get("output_type") == "error":
                return cls(problem=f"{output.get('ename')}: {output.get('evalue')}")
        payloads = [o["data"][MIME] for o in outputs
                    if o.get("output_type") == "display_data" and MIME in o.get("data", {})]
        if len(payloads) != 1 or not isinstance(payloads[0], dict):
            return cls(problem=_("the notebook did not hand over its answers"))
        payload = payloads[0]
        result = cls()
        values = payload.get("values") if isinstance(payload.get("values"), dict) else {}
        refused = payload.get("refused") if isinstance(payload.get("refused"), dict) else {}
        for name in names:
            value = values.get(name)
            if isinstance(value, dict) and value.get("kind") in KINDS:
                result.values[name] = HandedValue(value["kind"], value.get("data"))
            elif name in refused:
                result.refused[name] = str(refused[name])[:300]
            else:
                result.missing.append(name)
        return result

    @classmethod
    def stopped(cls, reason: str) -> HandedOver:
        """The kernel could not be asked: the notebook had stopped running before this cell."""
        return cls(problem=reason)


@dataclass
class CellToCheck:
    """One test cell for the checker: its code (from the gradebook) and the values."""

    grade_id: str
    source: str
    handed_over: HandedOver


@dataclass
class CheckRequest:
    """Everything the checker is asked: the test cells with their values, in order, and the
    grader's settings that the checks need."""

    cells: list[CellToCheck]
    training_budget_seconds: float = 0  # 0: the data profile's own budget
    language: str = DEFAULT_LANGUAGE  # of the checks' messages: the notebook's own

    INDEX = "request.json"

    def write(self, folder: Path) -> Path:
        """Write the request into ``folder``: an index, and one file per binary value.

        A binary value whose data arrived damaged is refused, with that reason.
        """
        folder.mkdir(parents=True, exist_ok=True)
        cells = []
        for number, cell in enumerate(self.cells):
            handed = cell.handed_over
            values, refused = {}, dict(handed.refused)
            for name, value in handed.values.items():
                if value.kind in BINARY_KINDS:
                    path = folder / f"{number}-{name}.{value.kind}"
                    try:
                        path.write_bytes(base64.b64decode(value.data, validate=True))
                    except (TypeError, ValueError):
                        refused[name] = _("its data arrived damaged")
                        continue
                    value = HandedValue(value.kind, file=path.name)
                values[name] = value
            cells.append(CellToCheck(cell.grade_id, cell.source, HandedOver(
                values, list(handed.missing), refused, handed.problem)))
        path = folder / self.INDEX
        path.write_text(json.dumps(asdict(CheckRequest(cells, self.training_budget_seconds,
                                                        self.language))))
        return path

    @classmethod
    def read(cls, folder: Path) -> CheckRequest:
        """Read a request that :meth:`write` wrote into ``folder``."""
        data = json.loads((folder / cls.INDEX).read_text())
        cells = []
        for cell in data["cells"]:
            handed = cell["handed_over"]
            values = {name: HandedValue(**value) for name, value in handed["values"].items()}
            cells.append(CellToCheck(cell["grade_id"], cell["source"], HandedOver(
                values, handed["missing"], handed["refused"], handed["problem"])))
        return cls(cells, float(data.get("training_budget_seconds") or 0),
                   str(data.get("language") or DEFAULT_LANGUAGE))


@dataclass
class Verdict:
    """The checker's outcome for one test cell."""

    grade_id: str
    passed: bool
    ename: str = ""
    message: str = ""
    measured: dict | None = None  # what the check measured itself (the tuned recipe's run)

    def as_outputs(self) -> list[dict]:
        """The cell outputs nbgrader scores: none for a pass, one error for a failure."""
        if self.passed:
            return []
        return [{"output_type": "error", "ename": self.ename, "evalue": self.message,
                 "traceback": [f"{self.ename}: {self.message}"]}]


def keep_measured(cell, measured: dict | None) -> None:
    """Keep in a graded cell's metadata what its check measured (:attr:`Verdict.measured`),
    replacing whatever was there: the teacher's side reads it from the graded notebook."""
    cell.metadata.pop(MEASURED_KEY, None)
    if isinstance(measured, dict) and measured:
        cell.metadata[MEASURED_KEY] = measured


def read_verdicts(text: str, grade_ids: list[str]) -> list[Verdict]:
    """Parse the checker's answer; a cell it did not answer counts as failed."""
    found = {}
    for item in json.loads(text):
        verdict = Verdict(**item)
        found[verdict.grade_id] = verdict
    return [found.get(g) or Verdict(g, False, "GradingError", "this cell was not checked")
            for g in grade_ids]


def verdicts_json(verdicts: list[Verdict]) -> str:
    """The checker's answer as JSON."""
    return json.dumps([asdict(v) for v in verdicts])


# ---- the checker's side ----------------------------------------------------------------

class RecordedHistory:
    """A training history as handed over: ``.history`` (per-epoch numbers) and ``.params``."""

    def __init__(self, history: dict, params: dict):
        self.history, self.params = history, params


def load_value(value: HandedValue, folder: Path):
    """Turn one handed-over value back into a Python object (checker side, safe loaders)."""
    import numpy as np

    if value.kind == "json":
        return _from_plain(value.data)
    if value.kind == "history":
        data = _from_plain(value.data)
        if not isinstance(data, dict) or not isinstance(data.get("history"), dict):
            raise ValueError("the training history arrived without its numbers")
        return RecordedHistory(data["history"], data.get("params") or {})
    path = folder / Path(value.file).name
    if value.kind == "npy":
        return np.load(path, allow_pickle=False)
    if value.kind == "keras":
        import keras

        return keras.saving.load_model(path, safe_mode=True)
    raise ValueError(f"unknown kind of value {value.kind!r}")


def _from_plain(data):
    if isinstance(data, list):
        return [_from_plain(item) for item in data]
    if isinstance(data, dict):
        if set(data) == {"int"}:
            return int(data["int"])
        if set(data) == {"float"}:
            return float(data["float"])
        if set(data) == {"dict"} and isinstance(data["dict"], list):
            return {_hashable(_from_plain(k)): _from_plain(v) for k, v in data["dict"]}
        raise ValueError("a value arrived in an unknown form")
    return data


def _hashable(value):
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value
