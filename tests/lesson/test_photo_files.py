"""Do phone photos get in (iPhone HEIC, sideways JPEG) and does their EXIF data stay out?"""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageDraw

from course_lib.lesson.canvas import save_drawing
from course_lib.lesson.handwriting import (
    DigitImageError,
    load_digit,
    read_digit_folder,
    read_image,
)

GPS = ExifTags.IFD.GPSInfo


def drawn_seven() -> Image.Image:
    """A seven in dark pen on light paper, as a phone photographs it."""
    picture = Image.new("RGB", (300, 400), (235, 232, 225))
    pen = ImageDraw.Draw(picture)
    pen.line([(70, 90), (230, 90), (120, 330)], fill=(30, 30, 40), width=18)
    return picture


def located_exif() -> Image.Exif:
    """EXIF as a phone writes it: where (GPS), which phone, when."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 15"
    exif[ExifTags.Base.DateTime] = "2026:03:14 10:15:00"
    gps = exif.get_ifd(GPS)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 3.0, 14.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (3.0, 43.0, 5.2)
    return exif


def encoded(picture: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    picture.save(out, **options)
    return out.getvalue()


def heic(picture: Image.Image, **options) -> bytes:
    """``picture`` encoded as an iPhone would store it (HEIC), with pillow-heif."""
    out = io.BytesIO()
    pillow_heif.from_pillow(picture).save(out, quality=90, **options)
    return out.getvalue()


@pytest.fixture()
def reference(tmp_path) -> np.ndarray:
    """The seven as the lesson prepares it from a lossless PNG."""
    path = tmp_path / "reference" / "7_png.png"
    path.parent.mkdir()
    path.write_bytes(encoded(drawn_seven(), format="PNG"))
    return load_digit(path)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_an_iphone_heic_photo_becomes_the_digit(tmp_path, reference):
    """Is a HEIC photo read into the same 28x28 digit as the same drawing in PNG?"""
    path = tmp_path / "7_iphone.HEIC"
    path.write_bytes(heic(drawn_seven()))
    assert path.read_bytes()[4:12] == b"ftypheic"
    digit = load_digit(path)
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() == 0.0 and digit.max() == 1.0
    assert similarity(digit, reference) > 0.97
    found = read_digit_folder(tmp_path)
    assert [p.name for p in found.files] == ["7_iphone.HEIC"] and found.labels == [7]


def test_a_heic_photo_renamed_to_jpg_is_still_read(tmp_path, reference):
    """Does an iPhone photo that a platform renamed to .jpg still become the digit?"""
    path = tmp_path / "7_renamed.jpg"
    path.write_bytes(heic(drawn_seven()))
    assert similarity(load_digit(path), reference) > 0.97


def test_a_broken_heic_file_tells_the_student_what_to_do(tmp_path):
    """Does a cut-off HEIC file give a message that names it and says to send a JPEG?"""
    whole = heic(drawn_seven())
    for name, data in {"7_cut.heic": whole[: len(whole) // 2], "7_noise.heic": b"x" * 200}.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(DigitImageError) as error:
            load_digit(path)
        message = str(error.value)
        assert name in message
        assert "iPhone photo (HEIC)" in message and "JPEG" in message
        assert "Most Compatible" in message
    found = read_digit_folder(tmp_path)
    assert found.skipped == {"7_cut.heic": "it cannot be read as a picture",
                             "7_noise.heic": "it cannot be read as a picture"}


def test_without_pillow_heif_a_heic_photo_is_refused_with_advice(tmp_path, monkeypatch):
    """Where pillow-heif is missing, does the student learn why and what to send instead?"""
    path = tmp_path / "7_iphone.heic"
    path.write_bytes(heic(drawn_seven()))
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # import fails as if not installed
    with pytest.raises(DigitImageError, match="pillow-heif, which is not installed"):
        read_image(path)


def test_a_sideways_phone_photo_is_turned_upright(tmp_path, reference):
    """A phone stores a photo turned, with an EXIF note how to turn it: is it read upright?"""
    exif = located_exif()
    exif[ExifTags.Base.Orientation] = 6  # stored turned left; shown turned right
    stored = drawn_seven().transpose(Image.Transpose.ROTATE_90)
    path = tmp_path / "7_sideways.jpg"
    path.write_bytes(encoded(stored, format="JPEG", quality=95, exif=exif))
    assert similarity(load_digit(path), reference) > 0.95


def test_a_photos_location_is_not_kept_when_it_is_read(tmp_path):
    """Is a JPEG with GPS EXIF read as pixels only, with nothing of its EXIF kept?"""
    path = tmp_path / "7_located.jpg"
    path.write_bytes(encoded(drawn_seven(), format="JPEG", quality=95, exif=located_exif()))
    with Image.open(path) as stored:  # the photo as handed in does hold its location
        assert stored.getexif().get_ifd(GPS)[ExifTags.GPS.GPSLatitudeRef] == "N"
    grey = read_image(path)
    assert type(grey) is np.ndarray and grey.ndim == 2
    found = read_digit_folder(tmp_path)
    kept = [found.images, *found.originals]
    assert all(type(value) is np.ndarray and value.dtype.kind == "f" for value in kept)
    assert not any(b"iPhone" in value.tobytes() for value in kept)


def test_a_saved_drawing_holds_its_pixels_only(tmp_path):
    """Does the canvas save a picture without EXIF, text or location, whatever arrives?"""
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "drawn at home, Kerkstraat 1")
    drawing = encoded(drawn_seven().convert("RGBA"), format="PNG", exif=located_exif(),
                      pnginfo=text)
    with Image.open(io.BytesIO(drawing)) as arrived:
        assert arrived.getexif().get_ifd(GPS) and "Comment" in arrived.info
    url = "data:image/png;base64," + base64.b64encode(drawing).decode()
    path = save_drawing(tmp_path, url, 7)
    saved = Path(path).read_bytes()
    with Image.open(path) as picture:
        assert not picture.getexif()
        assert "Comment" not in picture.info and "exif" not in picture.info
        assert np.array_equal(np.asarray(picture.convert("RGBA")),
                              np.asarray(drawn_seven().convert("RGBA")))
    assert b"eXIf" not in saved and b"Kerkstraat" not in saved and b"iPhone" not in saved
