"""Which handed-in pictures count as a student's own digits: the grader's own decision."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from course_lib.autograder import own_digits
from course_lib.teacher import demo

SAMPLES = Path(__file__).resolve().parents[2] / "source" / "mnist_cnn" / "sample_digits"


def submission_with(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """A graded copy of a submission: the course's samples and these own digit files."""
    folder = tmp_path / "submission"
    (folder / "sample_digits").mkdir(parents=True)
    for sample in SAMPLES.iterdir():
        (folder / "sample_digits" / sample.name).write_bytes(sample.read_bytes())
    (folder / "own_digits").mkdir()
    for name, content in files.items():
        (folder / "own_digits" / name).write_bytes(content)
    return folder


def counted(tmp_path: Path, submission: Path) -> dict[str, str | None]:
    into = tmp_path / "checker" / "own_digits"
    own_digits.gather(submission, into)
    return own_digits.count(into)


def png(picture: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    picture.save(out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def honest_digits(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("own")
    return {p.name: p.read_bytes() for p in demo.write_own_digits(folder)}


def test_three_honest_digits_count(tmp_path, honest_digits):
    verdicts = counted(tmp_path, submission_with(tmp_path, honest_digits))
    assert verdicts == {name: None for name in honest_digits}


def test_samples_again_broken_blank_and_repeated_files_do_not_count(tmp_path, honest_digits):
    """Each way of making up the three pictures without writing them is named."""
    four = Image.open(SAMPLES / "four.png").convert("L")
    first, *_ = honest_digits
    files = {
        "4_copy.png": (SAMPLES / "four.png").read_bytes(),
        "4_resaved.jpg": png(four.resize((four.width * 2, four.height * 2)), format="JPEG",
                             quality=60),
        "4_padded.png": png(Image.fromarray(np.pad(np.asarray(four), 40,
                                                   constant_values=255)), format="PNG"),
        "1_blank.png": png(Image.new("L", (80, 80), 255), format="PNG"),
        "3_broken.png": b"\x89PNG\r\n\x1a\n this is not a picture",
        "9_again.png": honest_digits[first],
        first: honest_digits[first],
    }
    verdicts = counted(tmp_path, submission_with(tmp_path, files))
    assert verdicts == {
        "1_blank.png": "no digit found in it (it looks blank)",
        "3_broken.png": "it cannot be read as a picture",
        "4_copy.png": "the sample digit four.png again",
        "4_padded.png": "the sample digit four.png again",
        "4_resaved.jpg": "the sample digit four.png again",
        "9_again.png": f"the same file as {first}",
        first: None,
    }


def test_links_are_not_followed_and_oversized_files_not_opened(tmp_path, honest_digits):
    secret = tmp_path / "teacher_secret.png"
    secret.write_bytes(next(iter(honest_digits.values())))
    submission = submission_with(tmp_path, {"7_big.png": b"0" * (own_digits.MAX_BYTES + 1)})
    os.symlink(secret, submission / "own_digits" / "5_link.png")
    into = tmp_path / "checker" / "own_digits"
    own_digits.gather(submission, into)
    assert not list((into / own_digits.OWN).iterdir())
    assert own_digits.count(into) == {"7_big.png": "larger than 20 MB"}


def mnist_photos(count: int, digit: int | None = None) -> list[bytes]:
    """Different writers' digits of the embedded sample, drawn dark on light as photos."""
    from course_lib.lesson.data import load_mnist

    (images, labels), _, _ = load_mnist(quiet=True, allow_download=False)
    chosen = images if digit is None else images[labels == digit]
    return [png(Image.fromarray(255 - image).resize((112, 112), Image.BICUBIC), format="PNG")
            for image in chosen[:count]]


def test_at_most_so_many_pictures_are_opened(tmp_path):
    many = {f"{n:02d}_x.png": photo
            for n, photo in enumerate(mnist_photos(own_digits.MAX_FILES + 2))}
    verdicts = counted(tmp_path, submission_with(tmp_path, many))
    assert len(verdicts) == own_digits.MAX_FILES + 2
    assert sum(why is None for why in verdicts.values()) == own_digits.MAX_FILES
    assert "the rest are not read" in verdicts[f"{own_digits.MAX_FILES + 1:02d}_x.png"]


def test_a_picture_changed_a_little_counts_once(tmp_path, honest_digits):
    """One pixel changed, margins added, saved again larger as JPEG: the same picture."""
    first, *_ = honest_digits
    picture = Image.open(io.BytesIO(honest_digits[first])).convert("L")
    pixels = np.asarray(picture).copy()
    pixels[3, 3] = 255 - pixels[3, 3]
    files = {
        first: honest_digits[first],
        "5_pixel.png": png(Image.fromarray(pixels), format="PNG"),
        "6_margins.png": png(Image.fromarray(np.pad(np.asarray(picture), 30,
                                                    constant_values=255)), format="PNG"),
        "8_resaved.jpg": png(picture.resize((200, 200)), format="JPEG", quality=80),
    }
    verdicts = counted(tmp_path, submission_with(tmp_path, files))
    same = f"the same picture as {first}, slightly changed"
    assert verdicts == {first: None, "5_pixel.png": same, "6_margins.png": same,
                        "8_resaved.jpg": same}


def test_digits_written_apart_are_never_one_picture(tmp_path):
    """Ones of 40 writers (the simplest digit, the likeliest to look alike) and ones drawn
    40 times with a wobbling mouse: every one of them counts."""
    from PIL import ImageDraw

    from course_lib.lesson.handwriting import read_digit_folder

    writers = tmp_path / "writers"
    writers.mkdir()
    for number, photo in enumerate(mnist_photos(40, digit=1)):
        (writers / f"1_{number:02d}.png").write_bytes(photo)
    drawn = tmp_path / "drawn"
    drawn.mkdir()
    rng = np.random.default_rng(1)
    for number in range(40):
        canvas = Image.new("L", (280, 280), 255)
        length, left, slant = rng.uniform(150, 210), rng.uniform(80, 200), rng.normal(.05, .08)
        points = [(left + slant * t * length + rng.normal(0, 2.0), 40 + t * length)
                  for t in np.linspace(0, 1, 12)]
        ImageDraw.Draw(canvas).line(points, fill=0, width=18, joint="curve")
        canvas.save(drawn / f"1_{number:02d}.png")
    for folder in (writers, drawn):
        found = read_digit_folder(folder)
        assert found.skipped == {} and len(found.files) == 40
