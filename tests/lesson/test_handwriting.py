"""Does a student's own digit come out like an MNIST digit, whatever the picture looked like?"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.drawn import draw_seven
from PIL import Image, ImageDraw
from scipy import ndimage

from course_lib.lesson.handwriting import (
    DigitImageError,
    label_from_name,
    load_digit,
    load_digit_folder,
    prepare_digit,
)

CASES = {
    "dark ink on light paper": {},
    "light ink on dark": {"dark_ink": False},
    "thin stroke": {"width": 6},
    "thick stroke": {"width": 45},
    "off-centre": {"offset": (80, -60), "scale": 0.5},
    "small": {"scale": 0.25, "width": 8},
    "large": {"scale": 1.5, "width": 30},
    "rotated a little": {"angle": 12},
    "lighting gradient and noise": {"gradient": 0.35, "noise": 0.05},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_prepared_digit_looks_like_mnist(case):
    """Background near 0, ink near 1, 20 pixels on the longer side, centred by mass?"""
    digit = prepare_digit(draw_seven(**CASES[case]))
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.max() == pytest.approx(1.0, abs=0.02)
    ink = digit > 0.3
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    longer = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    assert 18 <= longer <= 20
    # Background: the corners and everything far from the ink stay dark.
    far = ~ndimage.binary_dilation(ink, iterations=2)
    assert digit[far].max() < 0.1
    row, col = ndimage.center_of_mass(digit)
    assert abs(row - 13.5) <= 1 and abs(col - 13.5) <= 1


def test_text_matrix_of_the_original_lesson(tmp_path):
    """Does a 28x28 .dat matrix (white on black, 0-1), as in the seed lesson, load?"""
    matrix = np.zeros((28, 28))
    matrix[6:22, 12:15] = 1.0
    path = tmp_path / "one.dat"
    np.savetxt(path, matrix)
    digit = load_digit(path)
    assert digit.shape == (28, 28) and digit.max() == pytest.approx(1.0)
    assert abs(ndimage.center_of_mass(digit)[1] - 13.5) <= 1


def test_transparent_drawing_counts_as_paper(tmp_path):
    """Is a drawing on a transparent canvas read as ink on white paper, not as all ink?"""
    canvas = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(100, 30), (100, 170)], fill=(0, 0, 0, 255), width=16)
    canvas.save(tmp_path / "1_drawn.png")
    digit = load_digit(tmp_path / "1_drawn.png")
    assert (digit > 0.5).sum() < 200  # a stroke, not a filled square


@pytest.mark.parametrize("name, content, message", [
    ("blank.png", "blank", "No ink found in"),
    ("broken.png", b"\x89PNG\r\n\x1a\n but then nothing", "could not be read"),
    ("notes.txt", b"seven\n", "could not be read"),
    ("empty.npy", b"", "could not be read"),
    ("digit.gif2", b"", "use one of"),
])
def test_bad_images_name_the_file(tmp_path, name, content, message):
    """Does each kind of unusable image raise DigitImageError naming the file?"""
    path = tmp_path / name
    if content == "blank":
        Image.new("L", (100, 100), 230).save(path)
    else:
        path.write_bytes(content)
    with pytest.raises(DigitImageError, match=message) as caught:
        load_digit(path)
    assert name in str(caught.value)


def test_missing_file():
    """Does a missing file say it is missing?"""
    with pytest.raises(DigitImageError, match="There is no file"):
        load_digit("nowhere/7.png")


def test_folder_with_one_bad_file(tmp_path, capsys):
    """Is a bad file reported and skipped while the good ones load, with labels from names?"""
    Image.fromarray((draw_seven() * 255).astype(np.uint8)).save(tmp_path / "7_photo.png")
    np.save(tmp_path / "seven_drawn.npy", draw_seven(dark_ink=False, size=120, width=10))
    (tmp_path / "3_broken.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "notes.md").write_text("ignored: not an image")
    digits = load_digit_folder(tmp_path)
    assert digits.images.shape == (2, 28, 28)
    assert digits.labels == [7, 7]
    assert [p.name for p in digits.files] == ["7_photo.png", "seven_drawn.npy"]
    assert len(digits.problems) == 1 and "3_broken.jpg" in digits.problems[0]
    assert "Skipped: " in capsys.readouterr().out


def test_empty_folder_uses_fallback(tmp_path, capsys):
    """With no own digits yet, are the fallback digits used, and does it say so?"""
    (tmp_path / "own").mkdir()
    (tmp_path / "samples").mkdir()
    np.save(tmp_path / "samples" / "4_sample.npy", draw_seven(size=100, width=8))
    digits = load_digit_folder(tmp_path / "own", fallback=tmp_path / "samples")
    assert digits.labels == [4]
    assert "using the sample digits" in capsys.readouterr().out


def test_samples_again_and_repeats_are_skipped_with_a_reason(tmp_path, capsys):
    """The lesson skips what the grader will not count as own handwriting, and says so:
    a sample saved again bigger as JPEG, the same file twice."""
    from helpers.course import ROOT

    samples = ROOT / "source" / "mnist_cnn" / "sample_digits"
    own = tmp_path / "own_digits"
    own.mkdir()
    four = Image.open(samples / "four.png").convert("L")
    four.resize((four.width * 2, four.height * 2)).save(own / "4_mine.jpg", quality=70)
    Image.fromarray((draw_seven() * 255).astype(np.uint8)).save(own / "7_a.png")
    (own / "7_b.png").write_bytes((own / "7_a.png").read_bytes())
    digits = load_digit_folder(own, fallback=samples)
    assert [p.name for p in digits.files] == ["7_a.png"]
    assert digits.skipped == {"4_mine.jpg": "the sample digit four.png again",
                              "7_b.png": "the same file as 7_a.png"}
    out = capsys.readouterr().out
    assert "4_mine.jpg is the sample digit four.png again, not a digit of your own" in out
    assert "7_b.png is the same file as 7_a.png; it counts once" in out


def test_empty_folder_without_fallback_explains(tmp_path):
    """Without digits and without fallback, does the error say what to put where?"""
    with pytest.raises(DigitImageError, match="Put PNG or JPG photos"):
        load_digit_folder(tmp_path)


@pytest.mark.parametrize("name, label", [
    ("7_mine.png", 7), ("3.jpg", 3), ("seven.dat", 7), ("Two_b.png", 2),
    ("12_x.png", None), ("photo.png", None), ("sevenish.png", None),
])
def test_label_from_name(name, label):
    """Is the label read from a leading digit or number word, and only then?"""
    assert label_from_name(name) == label


def test_shipped_sample_digits_load():
    """Do the sample digits shipped with the assignment load with their labels?"""
    from helpers.course import ROOT

    digits = load_digit_folder(ROOT / "source" / "mnist_cnn" / "sample_digits")
    assert digits.labels == [4, 7, 2]
    assert digits.problems == []


def test_colour_phone_photo_jpeg(tmp_path):
    """Does a large colour JPEG, yellowish paper and blue ink, come out as a centred digit?"""
    grey = draw_seven(size=1200, width=70, offset=(150, 90), scale=0.6, gradient=0.3,
                      noise=0.03)
    colour = np.stack([grey * 0.95 + 0.05, grey * 0.9 + 0.05, grey * 0.7 + 0.25], axis=-1)
    photo = tmp_path / "7_phone.jpg"
    Image.fromarray((np.clip(colour, 0, 1) * 255).astype(np.uint8)).crop(
        (0, 0, 1200, 900)).save(photo, quality=85)
    digit = load_digit(photo)
    ink = digit > 0.3
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20)
    row, col = ndimage.center_of_mass(digit)
    assert abs(row - 13.5) <= 1 and abs(col - 13.5) <= 1
    assert label_from_name(photo) == 7
