"""Shared fixtures: an isolated data environment and tiny MNIST files built on the spot."""

from __future__ import annotations

import gzip
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


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


def tiny_mnist(train_size: int = 30, test_size: int = 10, seed: int = 0):
    """Random but well-formed MNIST-shaped arrays: ((x_train, y_train), (x_test, y_test))."""
    rng = np.random.default_rng(seed)
    return tuple(
        (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n, dtype=np.uint8) % 10)
        for n in (train_size, test_size)
    )


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """Encode ``array`` as an idx file with the given magic number."""
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def write_idx_folder(folder: Path, data, gz: bool = False) -> Path:
    """Write ``data`` as the four MNIST idx files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = data
    parts = {
        "train_images": idx_bytes(x_train, 2051),
        "train_labels": idx_bytes(y_train, 2049),
        "test_images": idx_bytes(x_test, 2051),
        "test_labels": idx_bytes(y_test, 2049),
    }
    for part, content in parts.items():
        name = IDX_NAMES[part] + (".gz" if gz else "")
        (folder / name).write_bytes(gzip.compress(content) if gz else content)
    return folder


def write_npz(path: Path, data, **override) -> Path:
    """Write ``data`` as a keras-style mnist.npz, with arrays replaced by ``override``."""
    (x_train, y_train), (x_test, y_test) = data
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    arrays.update(override)
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="session")
def sample_networks(offline_session):
    """The lesson's network (the lesson's 20 epochs) and the model solution's tuned network,
    both trained once on the embedded sample and shared by the tests that need them."""
    import keras
    from keras import layers

    from course_lib.data import load_mnist, one_hot, prepare_images, split_validation
    from course_lib.settings import profile_for
    from course_lib.training import train_reference

    data = load_mnist(quiet=True)
    lesson = train_reference(data=data)
    train, test, source = data
    (images, labels), _ = split_validation(*train, profile_for(source).validation_size)
    keras.utils.set_random_seed(2024)
    tuned = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
        layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax"),
    ])
    tuned.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    tuned.fit(prepare_images(images), one_hot(labels), epochs=15, batch_size=64, verbose=0)
    return {"data": data, "lesson": lesson, "tuned": tuned}
