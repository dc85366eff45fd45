"""Turn a student's own digit (a photo, a drawing, a text matrix) into an MNIST-style image.

MNIST digits were made in a particular way, and a network trained on them expects the
same: light ink on a dark background, the digit scaled so that its longer side is 20
pixels, placed in a 28x28 image so that its centre of mass is in the middle, values in
[0, 1]. :func:`prepare_digit` does exactly that to any image:

1. grey scale, values 0-1 (transparent pixels count as white paper);
2. dark ink on light paper (a photo, a scan) is detected and inverted;
3. uneven lighting and paper texture are removed by subtracting the paper, estimated from
   the pixels around the ink (so bold ink is never dimmed), and the ink is brought to 1;
4. the image is cropped to the ink, ignoring specks far smaller than the digit;
5. the strokes are widened (thin pen) or narrowed (felt-tip) towards MNIST's width,
   about 2-4 pixels in the 20-pixel box;
6. scaled so the longer side is 20 pixels, keeping the aspect ratio;
7. placed in 28x28 with its centre of mass at the centre.

Steps 1-3 and 5 are not MNIST's: its digits were scanned from forms, already light on
dark and clean. Steps 4, 6 and 7 are how MNIST itself was made.

Files: ``.png``, ``.jpg``/``.jpeg``, ``.bmp``, ``.gif``, ``.heic``/``.heif`` (an iPhone's
photos, through the ``pillow-heif`` plug-in, loaded only for such a file), ``.dat``/``.txt``
(a text matrix, as in the original lesson) and ``.npy``.

Privacy: a picture is read as its grey pixels only. A phone photo's EXIF data (where and
when it was taken, the phone) is used for its orientation (so that an upright digit stays
upright) and then dropped: nothing here keeps, shows or writes it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from course_lib.lesson.constants import IMAGE_SIDE
from course_lib.lesson.digit_files import (
    DIGIT_SUFFIXES,
    HEIF_SUFFIXES,
    IMAGE_SUFFIXES,
    MATRIX_SUFFIXES,
    digit_files,
)
from course_lib.lesson.language import _

HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
WORKING_SIZE = 200  # large photos are shrunk to this first: enough detail, fast to clean
BOX = 20  # MNIST scales every digit to fit 20x20 ...
SIDE = IMAGE_SIDE  # ... and centres it in 28x28
TARGET_STROKE = 3.4  # within MNIST's 2-4 pixels, in pixels of the 20x20 box (benchmarks page)


class DigitImageError(ValueError):
    """A digit image cannot be used; the message names the file and what to do."""


def load_digit(path: str | Path) -> np.ndarray:
    """Read one digit image from ``path`` and prepare it: float32, shape (28, 28), 0-1."""
    path = Path(path)
    return prepare_digit(read_image(path), name=str(path))


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as a 2-D float array of grey values 0-1 (white paper = 1)."""
    path = Path(path)
    if not path.is_file():
        raise DigitImageError(_("There is no file {path}. Check the name and the folder.")
                              .format(path=path))
    suffix = path.suffix.lower()
    try:
        if suffix in MATRIX_SUFFIXES:
            grey = np.loadtxt(path, dtype=float, ndmin=2)
        elif suffix == ".npy":
            grey = np.load(path, allow_pickle=False).astype(float)
        elif suffix in IMAGE_SUFFIXES:
            grey = _read_picture(path)
        else:
            raise DigitImageError(_("{path} is a {suffix} file; use one of {suffixes}.").format(
                path=path, suffix=suffix or _("suffix-less"),
                suffixes=", ".join(sorted(DIGIT_SUFFIXES))))
    except DigitImageError:
        raise
    except (OSError, ValueError, EOFError, UnidentifiedImageError,
            Image.DecompressionBombError) as error:
        if _is_heif(path):
            raise DigitImageError(_(
                "{path} could not be read as an iPhone photo (HEIC) ({error}). Send the "
                "photo again as JPEG (on the iPhone: Settings > Camera > Formats > Most "
                "Compatible), or take a screenshot of it, and put that file in its place."
            ).format(path=path, error=error)) from error
        raise DigitImageError(_(
            "{path} could not be read as a {suffix} image ({error}). "
            "Save it again, e.g. as PNG, and try once more.").format(
            path=path, suffix=suffix, error=error)) from error
    if grey.ndim == 3 and grey.shape[-1] in (3, 4):
        grey = grey[..., :3].mean(axis=-1)
    if grey.ndim != 2 or min(grey.shape) < 2:
        raise DigitImageError(_(
            "{path} holds an array of shape {shape}; a digit image has rows and columns.")
            .format(path=path, shape=grey.shape))
    if not np.isfinite(grey).all():
        raise DigitImageError(_("{path} contains values that are not numbers (NaN or "
                                "infinity).").format(path=path))
    if grey.max() > 1.0:
        grey = grey / 255.0
    return np.clip(grey, 0.0, 1.0)


def _read_picture(path: Path) -> np.ndarray:
    """The picture's grey pixels, 0-1, turned upright as the phone's EXIF says; the EXIF
    data itself (a phone photo's location among it) is not kept."""
    if _is_heif(path):
        _open_heif()
    with Image.open(path) as picture:
        picture.load()
        # A phone stores a photo sideways with a note of how to turn it: turn it upright.
        try:
            picture = ImageOps.exif_transpose(picture)
        except Exception:  # noqa: BLE001 - a broken note must not cost the picture itself
            pass
        if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
            # A drawing on a transparent canvas: its empty parts are paper, not ink.
            picture = picture.convert("RGBA")
            paper = Image.new("RGBA", picture.size, "white")
            picture = Image.alpha_composite(paper, picture)
        return np.asarray(picture.convert("L"), dtype=float) / 255.0


def _is_heif(path: Path) -> bool:
    """Whether ``path`` is a HEIC/HEIF picture: by its suffix, or by its first bytes (a
    phone or a learning platform sometimes renames an iPhone photo to ``.jpg``)."""
    if path.suffix.lower() in HEIF_SUFFIXES:
        return True
    try:
        with open(path, "rb") as handle:
            start = handle.read(12)
    except OSError:
        return False
    return start[4:8] == b"ftyp" and start[8:12] in HEIF_BRANDS


def _open_heif() -> None:
    """Teach Pillow to open HEIC/HEIF pictures (once; only when such a picture comes)."""
    try:
        import pillow_heif
    except ImportError as error:
        raise DigitImageError(_(
            "iPhone photos (HEIC) need the Python package pillow-heif, which is not "
            "installed here. Ask your teacher, or send the photo again as JPEG (on the "
            "iPhone: Settings > Camera > Formats > Most Compatible).")) from error
    pillow_heif.register_heif_opener()


def prepare_digit(grey: np.ndarray, name: str = "the image") -> np.ndarray:
    """Make an MNIST-style digit from a grey image (values 0-1, either polarity).

    Returns float32 of shape (28, 28) with background 0 and ink up to 1.
    """
    crop, mask = _ink_crop(grey, name)
    crop = _even_stroke(crop, mask)
    rows, cols = np.flatnonzero(crop.any(axis=1)), np.flatnonzero(crop.any(axis=0))
    crop = crop[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]  # narrowing ends the strokes
    return _centre(_scale_to_box(crop))


def _ink_crop(grey: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The digit's ink, light on dark and cropped to it, with its mask (steps 1-4)."""
    grey = np.asarray(grey, dtype=float)
    grey = _shrink(grey)
    ink = _ink_is_light(grey)
    bright_ink = grey if ink else 1.0 - grey
    cleaned = _remove_background(bright_ink)
    mask = _digit_mask(cleaned)
    if mask is None:
        raise DigitImageError(_(
            "No ink found in {name}: it looks blank. Write the digit with a thick, dark "
            "pen (or a white one on black) and make sure it fills a good part of the picture."
        ).format(name=name))
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    mask = mask[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    return cleaned[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1] * mask, mask


def likeness(grey: np.ndarray) -> np.ndarray | None:
    """What two copies of one picture share: the ink as drawn, cropped, in a square.

    Unlike the prepared digit, the strokes keep their own width, so two digits written
    apart stay apart even when they are simple (two ones), while a copy with a changed
    pixel, margins, another size or JPEG's noise looks the same (:data:`NEAR_COPY`).
    A unit vector (mean removed), or None for a picture without ink.
    """
    try:
        crop, _ = _ink_crop(grey, "the image")
    except DigitImageError:
        return None
    height, width = crop.shape
    side = max(height, width)
    square = np.zeros((side, side))
    top, left = (side - height) // 2, (side - width) // 2
    square[top: top + height, left: left + width] = crop
    picture = Image.fromarray(square.astype(np.float32), mode="F")
    small = np.asarray(picture.resize((LIKENESS_SIDE, LIKENESS_SIDE), Image.Resampling.BOX),
                       dtype=float)
    return _unit(small)


def plain_recipe(grey: np.ndarray) -> np.ndarray:
    """MNIST's recipe on a photo: invert, threshold, crop, scale into 20x20, centre by mass.

    What :func:`prepare_digit` adds for photos (paper removal, stroke width) is left out:
    the baseline that the course's preparation is measured against (benchmarks page).
    """
    grey = np.asarray(grey, dtype=float)
    ink = grey if _ink_is_light(grey) else 1.0 - grey
    ink = (ink - ink.min()) / max(ink.max() - ink.min(), 1e-6)
    values = np.where(ink >= _otsu(ink), ink, 0.0)
    rows, cols = np.flatnonzero(values.any(axis=1)), np.flatnonzero(values.any(axis=0))
    return _centre(_scale_to_box(values[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]))


def stroke_width(mask: np.ndarray) -> float:
    """The typical width of the strokes of a binary digit, in pixels.

    Inside a stroke of width w the distance to the edge runs from 0 to w/2; its mean
    over the stroke is about w/4.
    """
    if not mask.any():
        return 0.0
    distance = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    return float(4 * distance[mask].mean())


def _even_stroke(crop: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Bring the stroke width towards MNIST's, 2-4 pixels once scaled into the 20-pixel box.

    A thin pen would become a faint one-pixel line; a felt-tip a blob. The strokes are
    widened or narrowed by ``r`` pixels on each side in the picture's own resolution, where
    ``r`` accounts for the digit growing or shrinking by ``2r`` too:
    (width ± 2r) / (length ± 2r) = target / 20.
    """
    width, length = stroke_width(mask), max(mask.shape)
    share = TARGET_STROKE / BOX
    if width <= 0:
        return crop
    target = share * length  # the width the strokes should have at this size
    radius = abs(width - target) / (2 * (1 - share))
    if width < 0.75 * target:
        grown = ndimage.distance_transform_edt(~np.pad(mask, 1))[1:-1, 1:-1] <= radius
        return np.maximum(crop, grown * 1.0)
    if width > 1.4 * target:
        inner = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1] > \
            min(radius, 0.35 * width)
        # If narrowing would remove most of the digit, its strokes vary too much: keep it.
        return crop * inner if inner.sum() > 0.2 * mask.sum() else crop
    return crop


def _shrink(grey: np.ndarray) -> np.ndarray:
    longer = max(grey.shape)
    if longer <= WORKING_SIZE:
        return grey
    size = tuple(max(1, round(n * WORKING_SIZE / longer)) for n in grey.shape[::-1])
    picture = Image.fromarray(grey.astype(np.float32), mode="F")
    return np.asarray(picture.resize(size, Image.Resampling.BOX), dtype=float)


def _ink_is_light(grey: np.ndarray) -> bool:
    """Decide the polarity from the border, which is almost always paper."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return float(np.median(border)) < 0.5


def _remove_background(bright_ink: np.ndarray) -> np.ndarray:
    """Subtract the paper (uneven light, texture) and bring the ink to 1, never dimming it.

    The paper's brightness is estimated from the pixels that are not ink (found with a
    first threshold), smoothed over the picture: bold ink cannot pull it up, as it does
    with a grey-level opening narrower than the strokes.
    """
    spread = np.percentile(bright_ink, 99.9) - np.percentile(bright_ink, 0.5)
    if spread <= 0.05:
        return np.zeros_like(bright_ink)
    stretched = _stretch(bright_ink)
    first = stretched > _otsu(stretched)
    paper = ~ndimage.binary_dilation(first, iterations=2)
    sigma = max(2.0, max(bright_ink.shape) / 8)
    weight = ndimage.gaussian_filter(paper.astype(float), sigma)
    background = ndimage.gaussian_filter(np.where(paper, bright_ink, 0.0), sigma) \
        / np.maximum(weight, 1e-3)
    # Where no paper is near (inside a big blob of ink), use the overall paper level.
    level = np.median(bright_ink[paper]) if paper.any() else np.percentile(bright_ink, 5)
    background = np.where(weight > 0.05, background, level)
    signal = np.clip(bright_ink - background, 0.0, None)
    top = np.percentile(signal[first], 90) if first.any() else signal.max()
    if top <= 0.05:
        return np.zeros_like(signal)
    signal = np.clip(signal / top, 0.0, 1.0)
    # Paper texture and sensor noise stay below this level; ink is well above it.
    threshold = max(0.25, _otsu(signal) * 0.5)
    return np.where(signal >= threshold, signal, 0.0)


def _stretch(values: np.ndarray) -> np.ndarray:
    low, high = np.percentile(values, 0.5), np.percentile(values, 99.9)
    return np.clip((values - low) / max(high - low, 1e-6), 0.0, 1.0)


def _otsu(values: np.ndarray) -> float:
    histogram, edges = np.histogram(values, bins=64, range=(0.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(histogram)
    total = weight[-1]
    mean = np.cumsum(histogram * centres)
    between = (mean[-1] * weight - mean * total) ** 2 / np.maximum(weight * (total - weight), 1)
    return float(centres[np.argmax(between)])


def _digit_mask(cleaned: np.ndarray):
    """The ink of the digit: connected pieces, without specks much smaller than the largest."""
    labels, count = ndimage.label(cleaned > 0, structure=np.ones((3, 3)))
    if count == 0:
        return None
    sizes = ndimage.sum_labels(np.ones_like(cleaned), labels, index=np.arange(1, count + 1))
    if sizes.max() < 2:
        return None
    keep = np.flatnonzero(sizes >= 0.1 * sizes.max()) + 1
    return np.isin(labels, keep)


def _scale_to_box(crop: np.ndarray) -> np.ndarray:
    height, width = crop.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    picture = Image.fromarray(crop.astype(np.float32), mode="F")
    filter_ = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    scaled = np.asarray(picture.resize(size, filter_), dtype=float)
    return np.clip(scaled / max(scaled.max(), 1e-6), 0.0, 1.0)


def _centre(digit: np.ndarray) -> np.ndarray:
    """Place ``digit`` in 28x28 so that its centre of mass lands on the centre."""
    canvas = np.zeros((SIDE * 2, SIDE * 2))
    top = (canvas.shape[0] - digit.shape[0]) // 2
    left = (canvas.shape[1] - digit.shape[1]) // 2
    canvas[top: top + digit.shape[0], left: left + digit.shape[1]] = digit
    row, col = ndimage.center_of_mass(canvas)
    middle = (canvas.shape[0] - 1) / 2
    shifted = np.roll(canvas, (round(middle - row), round(middle - col)), axis=(0, 1))
    start = (canvas.shape[0] - SIDE) // 2
    return shifted[start: start + SIDE, start: start + SIDE].astype(np.float32)


def label_from_name(path: str | Path) -> int | None:
    """The digit a file name announces: ``7_mine.png`` and ``seven.dat`` give 7; else None."""
    stem = Path(path).stem.lower()
    match = re.match(r"(\d)(?!\d)", stem)
    if match:
        return int(match.group(1))
    for digit, word in enumerate(DIGIT_WORDS):
        if re.match(rf"{word}(?![a-z])", stem):
            return digit
    return None


@dataclass
class DigitSet:
    """Prepared digits from a folder: images (n, 28, 28), labels (None if unknown), files.

    ``skipped``: each picture that was not used, by file name, with why (in short);
    ``problems``: the same as messages for the student.
    """

    images: np.ndarray
    labels: list = field(default_factory=list)
    files: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    folder: Path | None = None
    originals: list = field(default_factory=list)  # the pictures as read, grey 0-1
    skipped: dict = field(default_factory=dict)


# Correlation of two prepared digits above which they are the same picture. Measured: a
# sample digit re-saved as JPEG, doubled or padded 0.993-1.000; among 600 of scikit-learn's
# digits by 43 writers, the closest two different digits 0.964.
SAME_DIGIT = 0.98
# Two own pictures are one picture when their likeness (see :func:`likeness`) correlates at
# least this much. Measured (tests/test_own_digits.py, on sample digits drawn as photos):
# copies with a changed pixel or added margins 0.9998-1.0, saved again as JPEG or at
# another size 0.985-1.0 (90% above 0.99); digits by different writers at most 0.988 (300
# MNIST ones), the same hand drawing a one 40 times with the mouse at most 0.984.
NEAR_COPY = 0.99
LIKENESS_SIDE = 32


def read_digit_folder(folder: str | Path, samples: str | Path | None = None,
                      quiet: bool = True) -> DigitSet:
    """Read and prepare every digit picture in ``folder``, sorted by file name.

    Never fails because of a picture: one that cannot be used is in ``skipped`` (and
    ``problems``) and the others are read. Not used: a file that cannot be read as a
    picture, one with no digit found in it, the same file as one before it, and a digit
    of ``samples`` (a folder) again, even saved again, scaled or padded.
    """
    folder = Path(folder)
    files = digit_files(folder)
    known = _signatures(read_digit_folder(samples)) if samples is not None else {}
    found = DigitSet(np.zeros((0, SIDE, SIDE), np.float32), folder=folder)
    images, first_of, seen = [], {}, {}

    def skip(path: Path, why: str, message: str) -> None:
        found.skipped[path.name] = why
        found.problems.append(message)
        if not quiet:
            print(_("Skipped: {message}").format(message=message))

    for path in files:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in first_of:
            skip(path, _("the same file as {first}").format(first=first_of[digest]),
                 _("{path} is the same file as {first}; it counts once.").format(
                     path=path, first=first_of[digest]))
            continue
        first_of[digest] = path.name
        try:
            grey = read_image(path)
        except DigitImageError as error:
            skip(path, _("it cannot be read as a picture"), str(error))
            continue
        try:
            image = prepare_digit(grey, name=str(path))
        except DigitImageError as error:
            skip(path, _("no digit found in it (it looks blank)"), str(error))
            continue
        same = _same_digit(image, known)
        if same:
            skip(path, _("the sample digit {sample} again").format(sample=same),
                 _("{path} is the sample digit {sample} again, not a digit of your own.")
                 .format(path=path, sample=same))
            continue
        fingerprint = likeness(grey)
        twin = _closest(fingerprint, seen, NEAR_COPY)
        if twin:
            skip(path, _("the same picture as {twin}, slightly changed").format(twin=twin),
                 _("{path} is the same picture as {twin}, slightly changed; it counts once.")
                 .format(path=path, twin=twin))
            continue
        if fingerprint is not None:
            seen[path.name] = fingerprint
        images.append(image)
        found.labels.append(label_from_name(path))
        found.files.append(path)
        found.originals.append(grey)
    if images:
        found.images = np.stack(images)
    return found


def load_digit_folder(folder: str | Path, fallback: str | Path | None = None,
                      quiet: bool = False) -> DigitSet:
    """Load and prepare every digit picture in ``folder`` (see :func:`read_digit_folder`).

    With a ``fallback`` folder (the sample digits), the pictures in ``folder`` that are
    those samples again are skipped, and if ``folder`` has no usable digit the fallback's
    digits are used. Fails with a clear message when there is no usable digit at all.
    """
    folder = Path(folder)
    result = read_digit_folder(folder, samples=fallback, quiet=quiet)
    if not result.files and fallback is not None:
        if not quiet:
            print(_("No digit images of your own in {folder}/ yet; using the sample digits "
                    "in {samples}/.").format(folder=folder, samples=Path(fallback)))
        problems = result.problems
        result = read_digit_folder(fallback, quiet=quiet)
        result.problems = problems + result.problems
    if not result.files:
        raise DigitImageError(_(
            "No usable digit image in {folder}. Put PNG or JPG photos of your "
            "digits there (one digit per file, e.g. 7_mine.png).").format(folder=result.folder))
    return result


def _unit(image: np.ndarray) -> np.ndarray | None:
    """A digit as a unit vector with its mean removed (None for an empty one)."""
    vector = image.ravel().astype(float)
    vector -= vector.mean()
    norm = np.linalg.norm(vector)
    return vector / norm if norm else None


def _signatures(digits: DigitSet) -> dict[str, np.ndarray]:
    """Each digit of ``digits`` as :func:`_unit` gives it, by file name."""
    units = {path.name: _unit(image) for path, image in zip(digits.files, digits.images,
                                                            strict=True)}
    return {name: unit for name, unit in units.items() if unit is not None}


def _same_digit(image: np.ndarray, known: dict[str, np.ndarray]) -> str | None:
    """The name of the known digit that ``image`` is again, if any."""
    return _closest(_unit(image), known, SAME_DIGIT)


def _closest(vector: np.ndarray | None, known: dict[str, np.ndarray],
             threshold: float) -> str | None:
    """The name of the known unit vector that ``vector`` matches at ``threshold``, if any."""
    if vector is None or not known:
        return None
    name = max(known, key=lambda k: float(known[k] @ vector))
    return name if float(known[name] @ vector) >= threshold else None
