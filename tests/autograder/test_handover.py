"""Does the handover carry data, and only data, between the student's kernel and the checker?"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.autograder import handover
from course_lib.autograder.handover import (
    CellToCheck,
    CheckRequest,
    HandedOver,
    HandedValue,
    Verdict,
    load_value,
)


def test_needed_names_are_what_the_cell_reads_but_does_not_define():
    """Imports, assignments and the checker's own names are not asked of the kernel."""
    source = ('"""doc"""\nfrom course_lib.lesson.checks import expect_digit\nimport numpy\n'
              "x = 3\nexpect_digit('digit_4', digit_4)\nassert test_result >= "
              "profile.reference_threshold\nassert np.allclose(own, model.predict(x))\n"
              "print(len([y for y in range(3)]))\n")
    assert handover.needed_names(source) == ["digit_4", "test_result", "own", "model"]


def publish_and_read(monkeypatch, namespace, names):
    """Run the kernel's side, catch what it publishes, read it as the grader does."""
    published = []
    monkeypatch.setattr("IPython.display.publish_display_data",
                        lambda data: published.append(data))
    handover.export(namespace, names)
    [data] = published
    outputs = [{"output_type": "display_data", "data": data}]
    return HandedOver.from_outputs(outputs, names)


def test_values_travel_as_data(monkeypatch, tmp_path):
    """Numbers, text, booleans, arrays, dicts and a history arrive as they were sent."""
    class History:
        history = {"accuracy": [0.5, np.float32(0.75)]}
        params = {"epochs": 2}

    namespace = {"digit": np.int64(7), "probability": np.float32(0.25), "flag": np.bool_(True),
                 "name": "seven", "array": np.arange(6, dtype=np.float32).reshape(2, 3),
                 "table": {1: [2, 3]}, "history": History()}
    names = list(namespace) + ["unset"]
    received = publish_and_read(monkeypatch, namespace, names)
    assert received.missing == ["unset"] and received.refused == {}
    CheckRequest([CellToCheck("t", "pass", received)], 30).write(tmp_path)
    request = CheckRequest.read(tmp_path)
    assert request.training_budget_seconds == 30
    [cell] = request.cells
    values = {name: load_value(v, tmp_path) for name, v in cell.handed_over.values.items()}
    assert values["digit"] == 7 and type(values["digit"]) is int
    assert values["probability"] == 0.25 and values["flag"] is True
    assert values["name"] == "seven" and values["table"] == {1: [2, 3]}
    np.testing.assert_array_equal(values["array"], namespace["array"])
    assert values["history"].history == {"accuracy": [0.5, 0.75]}
    assert values["history"].params == {"epochs": 2}


def test_objects_that_are_not_data_are_refused(monkeypatch):
    """A function or an array of objects is refused with a reason, never pickled."""
    namespace = {"function": lambda: 1, "objects": np.array([object()], dtype=object)}
    received = publish_and_read(monkeypatch, namespace, list(namespace))
    assert "it is a function" in received.refused["function"]
    assert "arrays of numbers" in received.refused["objects"]
    assert received.values == {}


@pytest.mark.parametrize("outputs, problem", [
    ([], "did not hand over"),
    ([{"output_type": "error", "ename": "NameError", "evalue": "boom"}], "NameError: boom"),
    ([{"output_type": "display_data", "data": {handover.MIME: "not a dict"}}], "did not hand"),
])
def test_a_failed_handover_is_a_problem_not_a_crash(outputs, problem):
    """Whatever the kernel sent instead of its answer, the grader reads a plain problem."""
    assert problem in HandedOver.from_outputs(outputs, ["x"]).problem


def test_malformed_values_count_as_unanswered():
    """A value of an unknown kind, or damaged data, does not reach the checker."""
    outputs = [{"output_type": "display_data", "data": {handover.MIME: {
        "values": {"x": {"kind": "pickle", "data": "..."}, "y": {"kind": "npy",
                                                            "data": "@@not base64@@"}}}}}]
    received = HandedOver.from_outputs(outputs, ["x", "y"])
    assert received.missing == ["x"]
    assert "y" in received.values  # its form is checked when the request is written
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        CheckRequest([CellToCheck("t", "pass", received)]).write(Path(folder))
        [cell] = CheckRequest.read(Path(folder)).cells
    assert cell.handed_over.refused == {"y": "its data arrived damaged"}
    assert cell.handed_over.values == {}


def test_arrays_cannot_smuggle_pickles(tmp_path):
    """An .npy file holding objects is refused by the checker's loader."""
    path = tmp_path / "0-x.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        load_value(HandedValue("npy", file=path.name), tmp_path)


def test_verdicts_become_the_outputs_nbgrader_scores():
    """A pass is a cell without output; a failure one error with the message."""
    assert Verdict("t", True).as_outputs() == []
    [error] = Verdict("t", False, "AssertionError", "too low").as_outputs()
    assert error["output_type"] == "error" and error["evalue"] == "too low"
    text = handover.verdicts_json([Verdict("a", True)])
    assert [v.passed for v in handover.read_verdicts(text, ["a", "b"])] == [True, False]
