"""Tiny MNIST-shaped data and files, built on the spot for the data tests."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


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
