"""Is release/ exactly what nbgrader generates from source/, with no answers in it?"""

from __future__ import annotations

import json

import pytest
from helpers.course import NOTEBOOK, ROOT, new_course


def cells(path):
    notebook = json.loads(path.read_text())
    return [(c["cell_type"], "".join(c["source"]), c.get("metadata", {}).get("nbgrader"))
            for c in notebook["cells"]]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return new_course(tmp_path_factory.mktemp("generated") / "course")


def test_release_is_current(generated):
    """Does the committed release/ match a fresh `nbgrader generate_assignment` of source/?"""
    fresh, committed = generated / "release", ROOT / "release"
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    committed_files = sorted(p.relative_to(committed) for p in committed.rglob("*")
                             if p.is_file())
    assert committed_files == fresh_files, "release/ has other files: run `course generate`"
    for name in fresh_files:
        if name.suffix == ".ipynb":
            assert cells(committed / name) == cells(fresh / name), \
                f"release/{name} is stale: run `course generate` and commit release/"
        else:
            assert (committed / name).read_bytes() == (fresh / name).read_bytes()


def test_release_holds_no_solutions_or_hidden_tests():
    """Are the model answers and the hidden tests absent from the student version?"""
    text = "\n".join(source for _, source, _ in cells(ROOT / "release" / "mnist_cnn" / NOTEBOOK))
    for secret in ["BEGIN SOLUTION", "HIDDEN TESTS", "check_identified_digits",
                   "digit_100 = 9", 'layers.Dense(64, activation="relu")',
                   "Model answer", "tuned_model.compile("]:
        assert secret not in text, f"release notebook reveals {secret!r}"
    answers = [(kind, source) for kind, source, meta in cells(ROOT / "release" / "mnist_cnn"
                                                              / NOTEBOOK)
               if (meta or {}).get("solution")]
    code_answers = [source for kind, source in answers if kind == "code"]
    assert len(code_answers) == 6
    assert all(s.startswith("# YOUR CODE HERE\nraise NotImplementedError()") for s in code_answers)
    assert [source for kind, source in answers if kind == "markdown"] == ["YOUR ANSWER HERE"] * 2


@pytest.mark.parametrize("folder", ["source", "release"])
def test_committed_notebooks_have_no_outputs(folder):
    """Are committed notebooks free of outputs and execution counts?"""
    for path in (ROOT / folder).rglob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path
