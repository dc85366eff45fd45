"""Shared fixtures: an isolated data environment, and the networks trained once per run.

Shared helpers that are not fixtures live in ``tests/helpers/``."""

from __future__ import annotations

import matplotlib
import pytest
from helpers.networks import model_solution_network

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
