"""Does the lesson teach: no answer shown before it is asked, checks that say what they
mean, honest numbers, and a student's own run without TensorFlow's start-up noise?"""

from __future__ import annotations

import re

import nbformat
import pytest
from helpers.course import NOTEBOOK, ROOT

SOURCE = ROOT / "source" / "mnist_cnn" / NOTEBOOK
RELEASE = ROOT / "release" / "mnist_cnn" / NOTEBOOK


def lesson(path=SOURCE):
    return nbformat.read(path, as_version=4).cells


def index_of(cells, grade_id):
    return next(i for i, c in enumerate(cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_pictures_before_assignment_2_do_not_give_the_answers():
    """Before the answers: bars without verdict or label; the verdict comes after the check."""
    cells = lesson()
    answer = index_of(cells, "interpret_predictions")
    check = index_of(cells, "test_interpret_predictions")
    before = "\n".join(c.source for c in cells[:answer] if c.cell_type == "code")
    for call in re.findall(r"plot_prediction\(([^)]*)\)", before):
        assert "verdict=False" in call and "true_label" not in call, call
    after = "\n".join(c.source for c in cells[check:] if c.cell_type == "code")
    assert ('plot_prediction(predictions[0], true_label=digit_4, label_name="you read")'
            in after)


def test_the_asked_examples_are_not_labelled_before_assignment_1():
    """No cell before assignment 1 prints the labels of the two examples."""
    cells = lesson()
    before = "\n".join(c.source for c in cells[:index_of(cells, "identify_digits")]
                       if c.cell_type == "code")
    assert "train_labels[4]" not in before and "train_images[4]" not in before
    assert "examples = lesson_examples()" in before


def test_the_intro_says_what_a_silent_check_means():
    """A passing quick check is described as what it is, not as a right answer."""
    intro = lesson()[0].source
    assert "A silent\n  check means your answer has the right form" in intro
    assert "it does not mean the answer is right" in intro


def test_tuning_is_judged_on_validation_data():
    """Assignment 5 compares attempts by validation accuracy; the test set is measured once."""
    cells = lesson()
    tuning = "\n".join(c.source for c in cells[index_of(cells, "tune_model") - 2:])
    assert "Compare your attempts by their validation accuracy" in tuning
    assert "tuned_model.evaluate(x_test" not in tuning
    assert "RandomRotation" in tuning and "RandomZoom" in tuning
    assert "RandomTranslation" in tuning


def test_the_text_tells_the_truth():
    """Numbers and claims the first version got wrong."""
    text = "\n".join(c.source for c in lesson() if c.cell_type == "markdown")
    assert "about 1,100 adjustments, fewer than on the full set" in text
    assert "the way MNIST was made" not in text and "MNIST never needed" in text
    assert "Some react to horizontal edges" not in text
    code = "\n".join(c.source for c in lesson() if c.cell_type == "code")
    assert 'reshape(-1, 28, 28, 1).astype("float32") / 255' in code
    assert "keras.utils.to_categorical(train_labels, 10)" in code


def test_the_budget_is_a_count_the_student_sees_in_both_languages():
    """Does assignment 5 say that its budget is counted, not timed, in English and in Dutch,
    and does its check print the cost as the grader counts it?"""
    english = lesson()
    dutch = lesson(ROOT / "source" / "mnist_cnn_nl" / "mnist_cnn_nl.ipynb")
    start = index_of(english, "tune_model") - 2
    text = "\n".join(c.source for c in english[start:] if c.cell_type == "markdown")
    assert "not a time" in text and "*multiply-adds*" in text
    assert "print_training_cost(tuned_model, tuned_epochs, tuned_batch_size, profile)" in text
    assert "aim for at most" not in text
    dutch_text = "\n".join(c.source for c in dutch[start:] if c.cell_type == "markdown")
    assert "geen\n  tijd" in dutch_text and "*rekenstappen*" in dutch_text
    check = english[index_of(english, "test_tuned_accuracy")].source
    assert "check_training_cost(tuned_model, tuned_epochs, tuned_batch_size, profile)" in check


@pytest.mark.slow
def test_a_students_own_run_explains_unanswered_checks(tmp_path):
    """The untouched student version, run as a student would: every check says what is not
    defined yet, and no TensorFlow start-up lines appear."""
    import shutil

    from nbclient import NotebookClient

    folder = tmp_path / "mnist_cnn"
    shutil.copytree(RELEASE.parent, folder)
    notebook = nbformat.read(folder / NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    printed = "\n".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code"
                        for o in c.outputs)
    assert "absl::InitializeLog" not in printed and "oneDNN" not in printed
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            [error] = [o for o in cell.outputs if o.output_type == "error"]
            assert error.ename == "AssertionError", (cell.source, error.evalue)
            assert error.evalue.startswith("You have not defined"), error.evalue


@pytest.mark.slow
def test_a_student_who_keeps_no_tuned_history_is_told_what_to_do(tmp_path):
    """Answers given, but the tuned network trained without keeping `tuned_history` (as a
    student may read the text): nothing stops with a NameError or KeyError, and the check
    says how to see the validation accuracy."""
    import shutil

    from helpers.course import ROOT
    from helpers.submissions import HOPELESS_RECIPE, SHORT_TRAINING, weak_work
    from nbclient import NotebookClient

    from course_lib.teacher import demo

    folder = tmp_path / "mnist_cnn"
    shutil.copytree(RELEASE.parent, folder)
    answers = {**weak_work(ROOT), "tune_model": HOPELESS_RECIPE}
    notebook = demo.fill_in(folder / NOTEBOOK, answers)
    for cell in notebook.cells:
        for long, short in SHORT_TRAINING:
            cell.source = cell.source.replace(long, short)
    NotebookClient(notebook, timeout=600, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    errors = [o.ename for c in notebook.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert "NameError" not in errors and "KeyError" not in errors, errors
    [check] = [c for c in notebook.cells
               if c.metadata.get("nbgrader", {}).get("grade_id") == "test_tuned_accuracy"]
    printed = "".join(o.get("text", "") for o in check.outputs)
    assert "Train with validation_data=(x_validation, y_validation)" in printed
    assert "Training your recipe costs 5.5 billion multiply-adds (1 epoch(s) of 3,500 " \
        "training images in batches of 64): 0% of the budget of 2,400 billion" in printed
