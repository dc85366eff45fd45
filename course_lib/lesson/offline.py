"""Prepare a classroom without internet: put the full MNIST where the course finds it.

Either fetch it once while online (``course data fetch``), or import a copy someone
brought on a USB stick (``course data import PATH``): a keras-style ``mnist.npz`` or a
folder of the four idx files. Both end with a checked ``mnist.npz`` in the keras cache,
which :func:`course_lib.lesson.data.load_mnist` reads before it would try the internet.
"""

from __future__ import annotations

from pathlib import Path

from course_lib.lesson.data import download_mnist, keras_cache_file, load_mnist
from course_lib.lesson.mnist_files import read_mnist, write_npz


def import_full_set(path: str | Path, destination: Path | None = None) -> Path:
    """Check the MNIST copy at ``path`` and store it as ``mnist.npz`` where keras looks.

    Raises :class:`~course_lib.lesson.mnist_files.MnistFileError` for a bad copy; an existing
    good file at the destination is then left as it was.
    """
    train, test = read_mnist(path)
    return write_npz(destination or keras_cache_file(), train, test)


def fetch_full_set() -> Path:
    """Download MNIST with keras (needs the internet) and return where it was stored."""
    download_mnist()
    return keras_cache_file()


def describe_available_data() -> str:
    """Say which MNIST the course would use on this computer now, without downloading."""
    train, test, source = load_mnist(allow_download=False, quiet=True)
    text = f"{source}: {len(train[0]):,} training and {len(test[0]):,} test images."
    if not source.is_full:
        text += (
            "\nNo full copy was found. While online, the lesson downloads it by itself; for a "
            "classroom without internet run `course data fetch` once while online, or "
            "`course data import PATH`."
        )
    return text
