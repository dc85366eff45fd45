"""Do MNIST files load when good, and give one clear message naming the file when bad?"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.mnist import IDX_NAMES, idx_bytes, tiny_mnist, write_idx_folder, write_npz

from course_lib.lesson.mnist_files import MnistFileError, read_mnist


def assert_same(loaded, data):
    for (x_got, y_got), (x_want, y_want) in zip(loaded, data, strict=True):
        assert x_got.dtype == np.uint8 and y_got.dtype == np.uint8
        np.testing.assert_array_equal(x_got, x_want)
        np.testing.assert_array_equal(y_got, y_want)


def test_npz_round_trip(tmp_path):
    """Does a keras-style npz come back exactly, as uint8?"""
    data = tiny_mnist()
    assert_same(read_mnist(write_npz(tmp_path / "mnist.npz", data)), data)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
def test_idx_folder_round_trip(tmp_path, gz):
    """Does a folder of idx files, plain or gzipped, load with the right shapes and values?"""
    data = tiny_mnist(train_size=12, test_size=7)
    (x_train, y_train), (x_test, y_test) = read_mnist(write_idx_folder(tmp_path, data, gz=gz))
    assert x_train.shape == (12, 28, 28) and x_test.shape == (7, 28, 28)
    assert_same(((x_train, y_train), (x_test, y_test)), data)


def test_idx_dotted_names(tmp_path):
    """Are the dotted names some mirrors use (train-images.idx3-ubyte) accepted?"""
    data = tiny_mnist()
    write_idx_folder(tmp_path, data)
    for name in IDX_NAMES.values():
        (tmp_path / name).rename(tmp_path / name.replace("-idx", ".idx"))
    assert_same(read_mnist(tmp_path), data)


def bad_case(tmp_path, case):
    """Build one kind of broken data; return (path to load, file the message must name)."""
    data = tiny_mnist()
    (x_train, y_train), _ = data
    if case == "npz truncated":
        path = write_npz(tmp_path / "mnist.npz", data)
        path.write_bytes(path.read_bytes()[:500])
        return path, path
    if case == "npz not an archive":
        path = tmp_path / "mnist.npz"
        path.write_text("<html>Access denied</html>")
        return path, path
    if case == "npz missing array":
        path = tmp_path / "mnist.npz"
        np.savez(path, x_train=x_train, y_train=y_train)
        return path, path
    if case == "npz wrong shape":
        return write_npz(tmp_path / "m.npz", data, x_train=x_train.reshape(30, 784)), None
    if case == "npz labels out of range":
        return write_npz(tmp_path / "m.npz", data, y_train=y_train + 5), None
    if case == "npz lengths differ":
        return write_npz(tmp_path / "m.npz", data, y_train=y_train[:-3]), None
    folder = write_idx_folder(tmp_path / "idx", data)
    images = folder / IDX_NAMES["train_images"]
    labels = folder / IDX_NAMES["train_labels"]
    if case == "idx truncated":
        images.write_bytes(images.read_bytes()[:-100])
        return folder, images
    if case == "idx wrong magic":
        labels.write_bytes(idx_bytes(y_train, 2051))
        return folder, labels
    if case == "idx wrong image size":
        images.write_bytes(idx_bytes(np.zeros((30, 20, 20), np.uint8), 2051))
        return folder, images
    if case == "idx labels out of range":
        labels.write_bytes(idx_bytes(np.full(30, 12, np.uint8), 2049))
        return folder, labels
    if case == "idx lengths differ":
        labels.write_bytes(idx_bytes(y_train[:20], 2049))
        return folder, labels
    if case == "idx missing file":
        (folder / IDX_NAMES["test_labels"]).unlink()
        return folder, folder
    if case == "idx corrupt gzip":
        (folder / IDX_NAMES["test_images"]).unlink()
        (folder / (IDX_NAMES["test_images"] + ".gz")).write_bytes(b"\x1f\x8b\x08 not gzip")
        return folder, folder / (IDX_NAMES["test_images"] + ".gz")
    raise AssertionError(case)


BAD_CASES = {
    "npz truncated": "truncated",
    "npz not an archive": "not a readable .npz",
    "npz missing array": "no array named x_test, y_test",
    "npz wrong shape": "shape (30, 784), expected (n, 28, 28)",
    "npz labels out of range": "labels should be whole numbers 0-9, found [10, 11, 12]",
    "npz lengths differ": "30 training images but 27 training labels",
    "idx truncated": "truncated: its header promises 30 images",
    "idx wrong magic": "magic number is 2051, but an MNIST label file starts with 2049",
    "idx wrong image size": "20x20 pixels, not 28x28",
    "idx labels out of range": "found [12, 12, 12]",
    "idx lengths differ": "30 training images but 20 training labels",
    "idx missing file": "lacks t10k-labels-idx1-ubyte",
    "idx corrupt gzip": "cannot be read",
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_file_gives_one_clear_error(tmp_path, case):
    """Does each kind of broken file raise MnistFileError naming the file and the problem?"""
    path, culprit = bad_case(tmp_path, case)
    with pytest.raises(MnistFileError) as caught:
        read_mnist(path)
    message = str(caught.value)
    assert BAD_CASES[case] in message
    assert str(culprit or path) in message
    assert message.startswith("Cannot use the MNIST file")


def test_missing_path_says_what_to_point_at(tmp_path):
    """Does a path that does not exist say what the path should name?"""
    with pytest.raises(MnistFileError, match="no such file or folder.*mnist.npz"):
        read_mnist(tmp_path / "nowhere")
