"""A drawing canvas for the notebook: draw a digit with the mouse and save it as a PNG file.

The picture is saved into the assignment's folder of own digits (``own_digits/`` by
default) as ``<digit>_drawn_<n>.png``. The file, not the widget, is what counts: when the
autograder runs the notebook again without anyone at the mouse, the widget shows nothing
and changes nothing, and :func:`course_lib.lesson.handwriting.load_digit_folder` finds the same
files the student saw.

The widget's words (the menu, the buttons, the instructions) are in the language
:func:`course_lib.lesson.language.use_language` chose when the canvas was made.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import anywidget
import traitlets
from PIL import Image, UnidentifiedImageError

from course_lib.lesson.language import _

_ESM = r"""
function render({ model, el }) {
  const size = 280;
  const box = document.createElement("div");
  box.style.cssText = "display:flex;gap:12px;align-items:flex-start;font-family:sans-serif";
  const canvas = document.createElement("canvas");
  canvas.width = size; canvas.height = size;
  canvas.className = "digit-canvas";
  canvas.style.cssText = "border:2px solid #888;border-radius:6px;cursor:crosshair;" +
                         "touch-action:none;background:white";
  const pen = canvas.getContext("2d");
  const clear = () => { pen.fillStyle = "white"; pen.fillRect(0, 0, size, size); };
  clear();
  pen.lineCap = "round"; pen.lineJoin = "round"; pen.strokeStyle = "black";
  pen.lineWidth = 22;
  let drawing = false;
  const at = (event) => {
    const r = canvas.getBoundingClientRect();
    return [(event.clientX - r.left) * size / r.width, (event.clientY - r.top) * size / r.height];
  };
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true; const [x, y] = at(event);
    pen.beginPath(); pen.moveTo(x, y); pen.lineTo(x + 0.1, y + 0.1); pen.stroke();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return; const [x, y] = at(event); pen.lineTo(x, y); pen.stroke();
  });
  const stop = () => { drawing = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointerleave", stop);

  const side = document.createElement("div");
  side.style.cssText = "display:flex;flex-direction:column;gap:8px";
  const label = document.createElement("select");
  label.className = "digit-label";
  const words = model.get("words");
  label.innerHTML = '<option value=""></option>' +
    [...Array(10).keys()].map((d) => `<option value="${d}">${d}</option>`).join("");
  const save = document.createElement("button");
  label.options[0].textContent = words.which;
  save.className = "digit-save"; save.textContent = words.save;
  const erase = document.createElement("button");
  erase.className = "digit-clear"; erase.textContent = words.clear;
  const status = document.createElement("div");
  status.className = "digit-status"; status.style.cssText = "max-width:220px;font-size:13px";
  status.textContent = model.get("status");
  model.on("change:status", () => { status.textContent = model.get("status"); });
  save.addEventListener("click", () => {
    if (label.value === "") { status.textContent = words.choose; return; }
    model.set("drawing", { png: canvas.toDataURL("image/png"), label: Number(label.value) });
    model.save_changes();
  });
  erase.addEventListener("click", clear);
  side.append(label, save, erase, status);
  box.append(canvas, side);
  el.append(box);
}
export default { render };
"""


class DigitCanvas(anywidget.AnyWidget):
    """Draw a digit with the mouse, choose which digit it is, and press Save."""

    _esm = _ESM
    drawing = traitlets.Dict().tag(sync=True)
    status = traitlets.Unicode().tag(sync=True)
    words = traitlets.Dict().tag(sync=True)

    def __init__(self, folder: str | Path = "own_digits", **kwargs):
        kwargs.setdefault("words", canvas_words())
        kwargs.setdefault("status", _("Draw one digit, large, filling the square; choose "
                                      "which digit it is; press {save}.").format(
            save=kwargs["words"]["save"]))
        super().__init__(**kwargs)
        self.folder = Path(folder)

    @traitlets.observe("drawing")
    def _save(self, change) -> None:
        drawing = change["new"]
        try:
            path = save_drawing(self.folder, drawing.get("png", ""), drawing.get("label"))
        except ValueError as error:
            self.status = str(error)
            return
        self.status = _("Saved as {path}. Draw another one, or go on with the lesson.").format(
            path=path)


def canvas_words() -> dict[str, str]:
    """The canvas's menu, buttons and reminder, in the current language."""
    return {"which": _("which digit?"), "save": _("Save"), "clear": _("Clear"),
            "choose": _("First choose which digit you drew.")}


def save_drawing(folder: str | Path, data_url: str, label) -> Path:
    """Write a canvas PNG (a ``data:image/png;base64,...`` URL) as ``<label>_drawn_<n>.png``."""
    if not isinstance(label, int) or not 0 <= label <= 9:
        raise ValueError(_("The label should be a digit 0-9, not {label}.").format(
            label=repr(label)))
    match = re.fullmatch(r"data:image/png;base64,([A-Za-z0-9+/=]+)", data_url or "")
    if not match:
        raise ValueError(_("The drawing did not arrive as a PNG picture; press Save again."))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    number = 1
    while (folder / f"{label}_drawn_{number}.png").exists():
        number += 1
    path = folder / f"{label}_drawn_{number}.png"
    path.write_bytes(_pixels_only(base64.b64decode(match.group(1))))
    return path


def _pixels_only(data: bytes) -> bytes:
    """The PNG ``data`` written again with its pixels only: whatever else came with it
    (EXIF, text chunks, a colour profile) is not saved into the student's folder."""
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as picture:
            pixels = picture.convert("RGBA")
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise ValueError(_("The drawing did not arrive as a PNG picture; press Save again.")) \
            from error
    clean = Image.frombytes("RGBA", pixels.size, pixels.tobytes())
    out = io.BytesIO()
    clean.save(out, format="PNG")
    return out.getvalue()
