"""Read MNIST from files on disk, and refuse files that are not what they claim to be.

Two layouts are understood:

* a keras-style ``mnist.npz`` with the arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``;
* a folder with the four original idx files from Yann LeCun's site, gzipped or not
  (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte``; the dotted names ``train-images.idx3-ubyte`` are accepted too).

Every problem raises :class:`MnistFileError` with one message that names the file, says
what was expected and what was found, and what to do about it.
"""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np

from course_lib.lesson.constants import IMAGE_SIDE

IMAGE_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABEL_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
IDX_PARTS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

_FIX = "Copy the file again from a good source, or remove it so the course can use another one."


class MnistFileError(ValueError):
    """A data file exists but cannot be used as MNIST; the message says why and what to do."""

    def __init__(self, path: Path | str, problem: str, fix: str = _FIX):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"Cannot use the MNIST file {self.path}: {problem}. {fix}")


def read_mnist(path: Path | str):
    """Read MNIST from a keras-style ``.npz`` file or from a folder of idx files.

    Returns ``((x_train, y_train), (x_test, y_test))`` as uint8 arrays with images of
    shape (n, 28, 28) and labels of shape (n,).
    """
    path = Path(path)
    if path.is_dir():
        return read_idx_folder(path)
    if path.is_file():
        return read_npz(path)
    raise MnistFileError(
        path,
        "there is no such file or folder",
        "Check the path: it should name a keras-style mnist.npz or a folder with the "
        "four MNIST idx files.",
    )


def read_npz(path: Path | str):
    """Read and check a keras-style ``mnist.npz`` file."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise MnistFileError(
                    path,
                    f"it has no array named {', '.join(missing)} "
                    f"(expected {', '.join(NPZ_KEYS)}; found {', '.join(archive.files) or 'none'})",
                )
            arrays = {key: archive[key] for key in NPZ_KEYS}
    except MnistFileError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise MnistFileError(
            path, f"it is not a readable .npz archive (it may be truncated: {error})"
        ) from error
    train = check_pair(path, arrays["x_train"], arrays["y_train"], "training")
    test = check_pair(path, arrays["x_test"], arrays["y_test"], "test")
    return train, test


def read_idx_folder(folder: Path | str):
    """Read and check the four MNIST idx files in ``folder`` (each gzipped or not)."""
    folder = Path(folder)
    files = {part: find_idx_file(folder, stem) for part, stem in IDX_PARTS.items()}
    missing = [IDX_PARTS[part] for part, found in files.items() if found is None]
    if missing:
        raise MnistFileError(
            folder,
            f"the folder lacks {', '.join(missing)} (plain or .gz)",
            "Put all four MNIST idx files in this folder, or point to a keras-style mnist.npz.",
        )
    x_train = read_idx_images(files["train_images"])
    y_train = read_idx_labels(files["train_labels"])
    x_test = read_idx_images(files["test_images"])
    y_test = read_idx_labels(files["test_labels"])
    train = check_pair(files["train_labels"], x_train, y_train, "training")
    test = check_pair(files["test_labels"], x_test, y_test, "test")
    return train, test


def find_idx_file(folder: Path, stem: str) -> Path | None:
    """Return the idx file for ``stem`` in ``folder`` under any of its usual names."""
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, dotted):
        for suffix in ("", ".gz"):
            candidate = folder / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def read_idx_images(path: Path) -> np.ndarray:
    """Read an idx3 image file into a uint8 array of shape (n, 28, 28)."""
    header, body = _read_idx(path, IMAGE_MAGIC, header_ints=4, kind="image")
    count, rows, cols = header
    if (rows, cols) != (IMAGE_SIDE, IMAGE_SIDE):
        raise MnistFileError(path, f"its images are {rows}x{cols} pixels, not 28x28")
    _check_length(path, body, count * rows * cols, f"{count} images of 28x28 bytes")
    images = np.frombuffer(body, dtype=np.uint8, count=count * rows * cols)
    return images.reshape(count, IMAGE_SIDE, IMAGE_SIDE)


def read_idx_labels(path: Path) -> np.ndarray:
    """Read an idx1 label file into a uint8 array of shape (n,)."""
    (count,), body = _read_idx(path, LABEL_MAGIC, header_ints=2, kind="label")
    _check_length(path, body, count, f"{count} labels of one byte")
    return np.frombuffer(body, dtype=np.uint8, count=count).copy()


def _read_idx(path: Path, magic: int, header_ints: int, kind: str):
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as error:
        raise MnistFileError(
            path, f"it cannot be read (a damaged or truncated file? {error})"
        ) from error
    header_bytes = 4 * header_ints
    if len(data) < header_bytes:
        raise MnistFileError(path, f"it is only {len(data)} bytes long, shorter than an idx header")
    values = np.frombuffer(data[:header_bytes], dtype=">u4").tolist()
    if values[0] != magic:
        raise MnistFileError(
            path,
            f"its magic number is {values[0]}, but an MNIST {kind} file starts with {magic} "
            "(is it the other kind of file, or not an idx file at all?)",
        )
    return values[1:], data[header_bytes:]


def _check_length(path: Path, body: bytes, expected: int, what: str) -> None:
    if len(body) < expected:
        raise MnistFileError(
            path,
            f"it is truncated: its header promises {what}, but only {len(body)} bytes follow",
        )


def check_pair(path, images, labels, part: str):
    """Check that images and labels form a usable MNIST part; return them as uint8 arrays."""
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise MnistFileError(
            path, f"the {part} images have shape {images.shape}, expected (n, 28, 28)"
        )
    if labels.ndim != 1:
        raise MnistFileError(path, f"the {part} labels have shape {labels.shape}, expected (n,)")
    if len(images) != len(labels):
        raise MnistFileError(
            path,
            f"it has {len(images)} {part} images but {len(labels)} {part} labels; "
            "they should be equally many",
        )
    if len(images) == 0:
        raise MnistFileError(path, f"it holds no {part} images")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() > 9:
        bad = labels[(labels < 0) | (labels > 9)] if labels.dtype.kind in "iuf" else labels[:1]
        raise MnistFileError(
            path, f"the {part} labels should be whole numbers 0-9, found {bad[:3].tolist()}"
        )
    if images.min() < 0 or images.max() > 255:
        raise MnistFileError(
            path, f"the {part} pixels should lie in 0-255, found {images.min()}..{images.max()}"
        )
    return images.astype(np.uint8), labels.astype(np.uint8)


def write_npz(path: Path | str, train, test) -> Path:
    """Write MNIST as a keras-style compressed ``mnist.npz`` file and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = train, test
    # Write beside the target and rename, so an interrupted copy never looks complete.
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as handle:
        np.savez_compressed(handle, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    partial.replace(path)
    return path
