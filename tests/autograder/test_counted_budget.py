"""Is the tuned network's budget counted, so that its grade never depends on the grading
machine? A recipe over the budget is refused before any training, with the quick check's
own message; a recipe within it scores the same on a quiet machine and on a busy one; and a
machine that cannot keep up leaves the submission not graded, never scored 0."""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers.course import cell_scores, new_course
from helpers.networks import model_solution_network
from helpers.submissions import autograded_outputs, hand_in, weak_work

from course_lib.autograder import checks
from course_lib.autograder.handover import Verdict
from course_lib.autograder.limits import ControlGroup, Limits
from course_lib.autograder.retrain import GradingStopped, raise_if_stopped
from course_lib.autograder.sandbox import sandbox_available
from course_lib.lesson import checks as quick
from course_lib.lesson.recipe import Recipe

# The model solution's network: 7 epochs are within the budget (260 billion multiply-adds
# of 2,400 on the sample) and pass the mark (0.955 against 0.94, measured when chosen: few
# epochs keep the busy machine's grading short); 100 are over the budget (3,721 billion).
SOLUTION_NETWORK = """tuned_model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
    layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax"),
])
tuned_model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
tuned_batch_size = 64
"""
WITHIN_BUDGET = SOLUTION_NETWORK + "tuned_epochs = 7\n"
OVER_BUDGET = SOLUTION_NETWORK + "tuned_epochs = 100\n"
# The busy machine: the grading gets half a core, held by a control group's CPU quota, so
# that it runs at most half as fast as on one quiet core; where no control group can hold
# a quota, two busy loops (one per core of the machine the course is measured on) take the
# CPU from it instead. The quota proves the same without burning two cores' worth of CPU.
BUSY_SHARE_OF_A_CORE = 0.5
BUSY_LOOPS = 2
# The whole grading's memory and processes in that group: nbgrader, the kernel, the checker.
WHOLE_GRADING = Limits(memory_mb=16384, processes=4096)



def test_a_recipe_over_the_budget_is_refused_before_any_training(monkeypatch):
    """Is a recipe over the budget refused before any network is built to be trained, with
    the notebook's quick check's message word for word?"""
    def never(*args, **kwargs):
        raise RuntimeError("the grader trained a recipe over the budget")

    built_seeds = []
    build = Recipe.build
    monkeypatch.setattr(Recipe, "build", lambda self, seed=None: built_seeds.append(seed)
                        or build(self, seed))
    monkeypatch.setattr(checks, "train_and_predict", never)
    with pytest.raises(AssertionError) as refused:
        checks.check_tuned_accuracy(model_solution_network(), 100, 64)
    assert checks.GRADING_SEED not in built_seeds  # only the rules' look at its size
    with pytest.raises(AssertionError) as quick_check:
        quick.check_training_cost(model_solution_network(), 100, 64, checks.grading_data().profile)
    assert str(refused.value) == str(quick_check.value)
    assert str(refused.value).startswith(
        "Training your recipe costs 3,721 billion multiply-adds (100 epoch(s) of 3,500 "
        "training images in batches of 64), more than the budget of 2,400 billion")


def test_only_a_stopped_training_fails_the_grading_of_a_submission():
    """Does only a check the machine could not finish fail the grading, never a failed one?"""
    raise_if_stopped([Verdict("test_tuned_accuracy", False, "AssertionError", "too low"),
                      Verdict("test_architecture", True)])
    with pytest.raises(GradingStopped, match="test_tuned_accuracy: Not graded: the grading"):
        raise_if_stopped([Verdict("test_tuned_accuracy", False, "GradingStopped",
                                  "Not graded: the grading machine could not train ...")])


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course with two submissions: the solution's network within and over the budget,
    and a third within it for the machine that cannot keep up."""
    course = new_course(tmp_path_factory.mktemp("counted") / "course")
    weak = weak_work(course)
    hand_in(course, "within", {**weak, "tune_model": WITHIN_BUDGET})
    hand_in(course, "over", {**weak, "tune_model": OVER_BUDGET})
    hand_in(course, "slow-machine", {**weak, "tune_model": WITHIN_BUDGET})
    return course


def grade(course, students):
    """Grade ``students`` one at a time; their scores, tuned-accuracy messages and times."""
    from course_lib.teacher.autograde import autograde

    lines = []
    outcomes = autograde(course, students, workers=1, force=True, report=lines.append)
    assert all(o.ok for o in outcomes), lines
    return {o.student: {"scores": cell_scores(course, o.student),
                        "message": autograded_outputs(course, o.student)["test_tuned_accuracy"],
                        "seconds": o.seconds} for o in outcomes}


def cpu_folder(group: ControlGroup) -> Path | None:
    """The folder of ``group`` that holds its CPU quota (cgroup v1 or v2), if it has one."""
    for folder in group.folders:
        if folder.parent.name == "cpu" or (folder / "cpu.max").is_file():
            return folder
    return None


def times_throttled(folder: Path) -> int:
    """How often the kernel held the group's processes back at their quota."""
    for line in (folder / "cpu.stat").read_text().splitlines():
        name, _, value = line.partition(" ")
        if name == "nr_throttled":
            return int(value)
    raise AssertionError(f"no nr_throttled in {folder / 'cpu.stat'}")


@contextmanager
def busy_machine():
    """While inside: what starts the ``course`` command given gets half a core (a control
    group's quota) or, where none can be made, shares the machine with busy loops. Yields
    the function that runs the command; after it, the group's throttle count is checked."""
    group = ControlGroup.create(WHOLE_GRADING, cpu_cores=BUSY_SHARE_OF_A_CORE)
    quota = cpu_folder(group) if group else None
    if quota is None:
        if group:
            group.remove()
        loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                 for _ in range(BUSY_LOOPS)]
        try:
            time.sleep(1)
            assert all(loop.poll() is None for loop in loops)
            yield lambda command: subprocess.run(command, capture_output=True, text=True)
        finally:
            for loop in loops:
                loop.kill()
                loop.wait()
        return
    try:
        yield lambda command: subprocess.run(command, capture_output=True, text=True,
                                             preexec_fn=group.enter)
        assert times_throttled(quota) > 0, "the quota never held the grading back"
    finally:
        group.remove()


@pytest.mark.slow
@pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap")
def test_the_same_points_on_a_quiet_machine_and_on_a_busy_one(course):
    """Graded alone, then again with half a core (or while other processes keep every core
    busy): does the recipe within the budget score the same (3 of 3)? The one over it
    scores 0 with the quick check's message, counted before any training (so the
    machine's load never reaches it: graded once, quietly)."""
    quiet = grade(course, ["within", "over"])
    command = [sys.executable, "-m", "course_lib.teacher.cli", "--course", str(course),
               "autograde", "--student", "within", "--force", "--workers", "1"]
    started = time.perf_counter()
    with busy_machine() as run:
        done = run(command)
    busy_seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stdout + done.stderr
    busy = {"scores": cell_scores(course, "within"),
            "message": autograded_outputs(course, "within")["test_tuned_accuracy"]}
    print(f"\nquiet: {quiet['within']['seconds']:.0f} s and {quiet['over']['seconds']:.0f} s; "
          f"busy: {busy_seconds:.0f} s")
    assert busy["scores"] == quiet["within"]["scores"]
    assert busy["message"] == quiet["within"]["message"] == []
    assert quiet["within"]["scores"]["test_tuned_accuracy"] == 3
    assert quiet["over"]["scores"]["test_tuned_accuracy"] == 0
    [message] = quiet["over"]["message"]
    assert message.startswith("Training your recipe costs 3,721 billion multiply-adds "
                              "(100 epoch(s) of 3,500 training images in batches of 64), "
                              "more than the budget of 2,400 billion")


@pytest.mark.slow
@pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap")
def test_a_machine_that_cannot_keep_up_leaves_the_submission_not_graded(course):
    """When a safety net of 1 s stops the training of a recipe within the budget, is the
    submission listed as not graded, with the reason and the command that grades it again?"""
    from course_lib.teacher.autograde import autograde

    config = course / "nbgrader_config.py"
    settings = config.read_text()
    config.write_text(settings + "\nc.GradeInSandbox.training_budget_seconds = 1\n")
    lines = []
    try:
        [outcome] = autograde(course, ["slow-machine"], workers=1, force=True,
                              report=lines.append)
    finally:
        config.write_text(settings)
    said = "\n".join(lines)
    assert not outcome.ok, said
    assert "after the grader's time limit of 1 s its training was stopped after" in said
    assert "not graded: slow-machine: GradingStopped: test_tuned_accuracy: Not graded: the " \
           "grading machine could not train this recipe in time" in said
    assert "Retry just these: course autograde mnist_cnn --force --student slow-machine" in said
    assert not (course / "autograded" / "slow-machine" / "mnist_cnn" / "mnist_cnn.ipynb").exists()
