"""Shared fixtures: an isolated data environment, and the networks trained once per run;
and how the suite splits over processes (``pytest -n 2``, as ``make test`` runs it).

Shared helpers that are not fixtures live in ``tests/helpers/``."""

from __future__ import annotations

from pathlib import Path

from course_lib.teacher.nbgrader_main import leave_out_unused_format_checkers

# As in the course's own processes: seconds off every test process's start.
leave_out_unused_format_checkers()

import matplotlib  # noqa: E402 - after the line above, which must come before nbformat's
import pytest  # noqa: E402
from helpers.networks import model_solution_network  # noqa: E402

matplotlib.use("Agg")


@pytest.fixture(scope="session", autouse=True)
def offline_session(tmp_path_factory):
    """For the whole run, even module-wide fixtures: no internet, no data but the sample."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras_home_session")))
        patch.delenv("COURSE_MNIST_PATH", raising=False)
        patch.setenv("COURSE_MNIST_OFFLINE", "1")
        patch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
        yield


@pytest.fixture(autouse=True)
def isolated_data(tmp_path_factory, monkeypatch):
    """Give every test an empty keras cache, no data path and no internet attempts."""
    keras_home = tmp_path_factory.mktemp("keras_home")
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.delenv("COURSE_MNIST_PATH", raising=False)
    monkeypatch.setenv("COURSE_MNIST_OFFLINE", "1")
    return keras_home


@pytest.fixture(scope="session")
def sample_networks(offline_session):
    """The lesson's network (the lesson's 20 epochs) and the model solution's tuned network,
    both trained once on the embedded sample and shared by the tests that need them."""
    import keras

    from course_lib.lesson.data import lesson_split, load_mnist, one_hot, prepare_images
    from course_lib.teacher.training import train_reference

    data = load_mnist(quiet=True)
    lesson = train_reference(data=data)
    (images, labels), *_ = lesson_split(data)
    keras.utils.set_random_seed(2024)
    tuned = model_solution_network()
    tuned.fit(prepare_images(images), one_hot(labels), epochs=15, batch_size=64, verbose=0)
    return {"data": data, "lesson": lesson, "tuned": tuned}


# Test files that run together in one process when the suite runs in several: those that
# change the machine itself (system accounts, /etc, /srv, the exchange, control groups,
# chromium's policies) or load all of it on purpose (fork and memory bombs, busy loops),
# one after another, never beside each other (a browser starved by a fork bomb types into
# the wrong place); and those that share the networks trained once (``sample_networks``),
# so that they are trained once.
GROUPS = {
    "machine": {
        "test_box_holds", "test_classroom", "test_exchange_doors", "test_grading_as_an_account",
        "test_hub_disk", "test_hub_doors", "test_hub_letsencrypt", "test_hub_limits",
        "test_hub_logins", "test_hub_service", "test_leaderboard", "test_limits_v2",
        "test_hostile_submissions", "test_counted_budget",
    },
    "sample_networks": {"test_training", "test_real_handwriting", "test_photo_digits"},
}
GROUP_OF_FILE = {stem: group for group, stems in GROUPS.items() for stem in stems}

# The longest groups start first (measured on two cores), then the middling ones (about 20
# s to 2 minutes each), so that what is left for the end is short and no process waits
# long for the other.
LONGEST_FIRST = ["machine", "test_trust_verdicts", "test_course_e2e", "test_class_grading",
                 "sample_networks", "test_returns", "test_formgrader_browser", "test_checker",
                 "test_lesson", "test_other_data"]


def group_of(path: str | Path) -> str:
    """The group of a test file: the file itself, or the group ``GROUPS`` puts it in."""
    stem = Path(path).stem
    return GROUP_OF_FILE.get(stem, stem)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """The longest groups first, each group's tests together (in every process alike)."""
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(group_of(item.path), len(rank)))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With ``-n``: hand each group whole to one process, in the order of the tests (so the
    module-wide fixtures, such as a graded class, are made once, and the machine-wide files
    never run beside each other)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid.split("::", 1)[0])

    config.option.loadscopereorder = False  # the order is ours: the longest groups first
    return ByGroup(config, log)
