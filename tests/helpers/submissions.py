"""Submissions for the grading tests: honest weak work, wrong work, and tricks on top.

Every submission starts from the student version in ``release/``. To keep grading fast,
the lesson's network trains for one epoch on the first 500 training images, so it misses
its pass mark (the grader's own retraining of a tuned recipe always uses all of them), and
the lesson's pictures are left out unless a test looks at them (students may delete lesson
cells). What each answer cell holds is spelled out here, so each test can say exactly what
score to expect.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from course_lib.autograder import checks as grading
from course_lib.teacher import demo

ASSIGNMENT = "mnist_cnn"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
DROPPED_LESSON_CELLS = ("plot_", "DigitCanvas(")  # pictures only ...
KEPT_LESSON_CELLS = ("own = ", "examples = ")  # ... unless the cell also defines answers
# The lesson's training, shortened: one epoch on the first 500 training images.
SHORT_TRAINING = [("EPOCHS = profile.epochs", "EPOCHS = 1"),
                  ("model.fit(\n    x_train, y_train,",
                   "model.fit(\n    x_train[:500], y_train[:500],")]

TRUE_DIGITS = grading.lesson_example_labels()  # what a student reads in the two pictures
RIGHT_DIGITS = f"digit_4 = {TRUE_DIGITS[4]}\ndigit_100 = {TRUE_DIGITS[100]}\n"
WRONG_DIGITS = (f"digit_4 = {(TRUE_DIGITS[4] + 1) % 10}\n"
                f"digit_100 = {(TRUE_DIGITS[100] + 1) % 10}\n")
COMPARE = """train_accuracy = history.history["accuracy"][-1]
test_accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
accuracy_gap = train_accuracy - test_accuracy
generalises_well = accuracy_gap <= 0.05
"""
SMALL_CNN = """tuned_model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(8, (3, 3), activation="relu"),
    layers.MaxPooling2D((2, 2)),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
"""
# A recipe that cannot learn: a learning rate a million times too small.
HOPELESS_RECIPE = SMALL_CNN + """tuned_model.compile(
    optimizer=keras.optimizers.SGD(learning_rate=1e-6),
    loss="categorical_crossentropy", metrics=["accuracy"])
tuned_epochs = 1
tuned_batch_size = 64
tuned_model.fit(x_train[:500], y_train[:500], epochs=tuned_epochs,
                batch_size=tuned_batch_size, verbose=0)
"""
# A short but real recipe: Adam for one epoch, well short of the tuned pass mark.
SHORT_RECIPE = SMALL_CNN + """tuned_model.compile(optimizer="adam", loss="categorical_crossentropy",
                    metrics=["accuracy"])
tuned_epochs = 1
tuned_batch_size = 64
"""
FIT_HONESTLY = ("tuned_model.fit(x_train, y_train, epochs=tuned_epochs, "
                "batch_size=tuned_batch_size, verbose=0)\n")
PRINT_KERNEL_ACCURACY = ("print('kernel-side tuned accuracy:', "
                         "tuned_model.evaluate(x_test, y_test, verbose=0)[1])\n")


def solution(course: Path) -> dict[str, str]:
    """The model answers of the course's source notebook, per answer cell."""
    return demo.solution_sources(course / "source" / "mnist_cnn" / NOTEBOOK)


def weak_work(course: Path) -> dict[str, str]:
    """Honest answers everywhere, with a tuned recipe that cannot learn.

    Expected: 13 of 18 (everything but the lesson network's accuracy, trained one epoch
    here, and the tuned network's accuracy).
    """
    answers = solution(course)
    answers.update({"identify_digits": RIGHT_DIGITS, "compare_accuracy": COMPARE,
                    "tune_model": HOPELESS_RECIPE})
    return answers


WEAK_WORK_SCORES = {
    "test_identify_digits": 2, "test_architecture": 3, "test_interpret_predictions": 3,
    "test_network_accuracy": 0, "test_compare_accuracy": 2, "test_own_digits": 2,
    "test_tuned_structure": 1, "test_tuned_accuracy": 0,
}


def wrong_work() -> dict[str, str]:
    """Every answer defined, every answer wrong. Expected: 0 of 18."""
    return {
        "identify_digits": WRONG_DIGITS,
        "build_network": ('model = keras.Sequential([keras.Input(shape=(28, 28, 1)), '
                          'layers.Flatten(), layers.Dense(10, activation="softmax")])\n'
                          'model.compile(optimizer="sgd", loss="categorical_crossentropy", '
                          'metrics=["accuracy"])\n'),
        "interpret_predictions": ("most_likely_4 = most_likely_100 = 11\n"
                                  "probability_4 = probability_100 = 7\n"
                                  "correct_4 = correct_100 = 'maybe'\n"),
        "compare_accuracy": ("train_accuracy = test_accuracy = 5\naccuracy_gap = 'big'\n"
                             "generalises_well = None\n"),
        "own_digits_code": ("own_input = np.zeros((1, 5))\nown_predictions = np.zeros((1, 3))\n"
                            "own_predicted_digits = [42]\n"),
        "tune_model": ('tuned_model = keras.Sequential([keras.Input(shape=(784,)), '
                       'layers.Dense(3)])\ntuned_epochs = "many"\ntuned_batch_size = -1\n'),
    }


def hand_in(course: Path, student: str, answers: dict[str, str], *,
            edits: list[tuple[str, str]] = (), first: str | None = None,
            before: dict[str, str] | None = None, after: dict[str, str] | None = None,
            last: str | None = None, delete: set[str] = frozenset(),
            files: dict[str, bytes] | None = None, full_lesson: bool = False,
            pictures: bool = False, own_digits: bool = True,
            assignment: str = ASSIGNMENT) -> Path:
    """Hand in the student version of ``assignment`` with these answers, changes and extra
    cells.

    ``edits``: text replacements in the lesson's own cells; ``first``/``last``: an extra
    cell at the start/end; ``before``/``after``: an extra cell before/after the cell with
    that grade id; ``delete``: grade ids of cells removed; ``files``: extra files;
    ``full_lesson``: the lesson as written, its pictures and its training at full length;
    ``pictures``: its pictures, its training still short; ``own_digits``: hand in three
    digit pictures of "one's own" in ``own_digits/``.
    """
    notebook_name = f"{assignment}.ipynb"
    notebook = demo.fill_in(course / "release" / assignment / notebook_name, answers)
    cells = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if grade_id in delete:
            continue
        if cell.cell_type == "code" and not meta:
            if not (full_lesson or pictures) and \
                    any(word in cell.source for word in DROPPED_LESSON_CELLS) \
                    and not any(word in cell.source for word in KEPT_LESSON_CELLS):
                continue
            if not full_lesson and SHORT_TRAINING[0][0] in cell.source:
                for long, short in SHORT_TRAINING:
                    assert long in cell.source, f"the lesson's training no longer has {long!r}"
                    cell.source = cell.source.replace(long, short)
            for old, new in edits:
                cell.source = cell.source.replace(old, new)
        if grade_id in (before or {}):
            cells.append(new_code_cell(before[grade_id]))
        cells.append(cell)
        if grade_id in (after or {}):
            cells.append(new_code_cell(after[grade_id]))
    if first:
        cells.insert(0, new_code_cell(first))
    if last:
        cells.append(new_code_cell(last))
    notebook.cells = cells
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / notebook_name)
    if own_digits:
        demo.write_own_digits(folder / "own_digits")
    for name, content in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return folder / notebook_name


def autograded_outputs(course: Path, student: str,
                       assignment: str = "mnist_cnn") -> dict[str, list[str]]:
    """The error messages of every test cell in the graded notebook, by grade id."""
    notebook = nbformat.read(course / "autograded" / student / assignment
                             / f"{assignment}.ipynb", 4)
    return {cell.metadata.nbgrader["grade_id"]: [o.get("evalue", "") for o in cell.outputs]
            for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code"}


def printed_text(course: Path, student: str) -> str:
    """Everything the graded notebook's cells printed, joined."""
    notebook = nbformat.read(course / "autograded" / student / "mnist_cnn" / NOTEBOOK, 4)
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") or output.get("evalue", ""))
    return "\n".join(parts)
