"""Can a student draw a digit in a real browser and find it saved for the autograder?

Starts a real JupyterLab server and drives Debian's headless Chromium with Playwright:
opens a notebook, runs the canvas cell, draws a seven with mouse strokes, picks the label,
presses Save, and checks the PNG that lands in own_digits/.
"""

from __future__ import annotations

import nbformat
import numpy as np
import pytest
from helpers.browser import CHROMIUM_FLAGS, jupyter_server, require_chromium
from nbformat.v4 import new_code_cell, new_notebook
from PIL import Image

from course_lib.lesson.canvas import save_drawing
from course_lib.lesson.handwriting import load_digit

pytestmark = pytest.mark.slow

TOKEN = "canvas-test"


@pytest.fixture
def jupyter_lab(tmp_path):
    """A Jupyter server (JupyterLab's pages included) on localhost with one notebook that
    shows the canvas."""
    require_chromium()
    notebook = new_notebook(cells=[new_code_cell(
        'from course_lib.lesson.canvas import DigitCanvas\nDigitCanvas(folder="own_digits")')])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, tmp_path / "draw.ipynb")
    with jupyter_server(tmp_path, TOKEN, tmp_path / ".jupyter-config", seconds=60) as url:
        yield url, tmp_path


def test_drawing_in_jupyterlab_is_saved_for_the_autograder(jupyter_lab):
    """Does a seven drawn with the mouse end up as own_digits/7_drawn_1.png, like a 7?"""
    from playwright.sync_api import sync_playwright

    url, folder = jupyter_lab
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=require_chromium(),
                                             args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}/lab/tree/draw.ipynb?token={TOKEN}")
            page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content", timeout=90_000)
            # The kernel must be up before the cell is run, or the run is lost.
            page.wait_for_selector("text=| Idle", timeout=90_000)
            page.click(".jp-Notebook .jp-Cell .cm-content")
            page.keyboard.press("Shift+Enter")
            try:
                canvas = page.wait_for_selector("canvas.digit-canvas", timeout=90_000)
            except Exception:
                page.screenshot(path=str(folder / "no-canvas.png"))
                raise
            box = canvas.bounding_box()

            def to_page(x, y):
                return box["x"] + x * box["width"], box["y"] + y * box["height"]

            # A seven: the bar along the top, then the long stroke down to the left.
            for stroke in ([(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)],):
                page.mouse.move(*to_page(*stroke[0]))
                page.mouse.down()
                for start, end in zip(stroke, stroke[1:], strict=False):
                    for step in np.linspace(0, 1, 15)[1:]:
                        page.mouse.move(*to_page(start[0] + step * (end[0] - start[0]),
                                                 start[1] + step * (end[1] - start[1])))
                page.mouse.up()
            page.select_option("select.digit-label", "7")
            page.click("button.digit-save")
            page.wait_for_function(
                "document.querySelector('.digit-status').textContent.includes('Saved as')",
                timeout=30_000)
        finally:
            browser.close()

    saved = folder / "own_digits" / "7_drawn_1.png"
    assert saved.is_file()
    picture = np.asarray(Image.open(saved).convert("L"))
    assert picture.shape == (280, 280)
    assert picture[0, 0] == 255 and picture.min() < 50  # white paper, black ink
    digit = load_digit(saved)
    ink = digit > 0.3
    rows = np.flatnonzero(ink.any(axis=1))
    assert rows[-1] - rows[0] + 1 == 20  # taller than wide: scaled to 20 rows
    top_row = ink[rows[0]: rows[0] + 3].any(axis=0)
    assert top_row.sum() >= 10  # the bar of the seven runs across the top


def test_save_drawing_numbers_files_and_refuses_bad_input(tmp_path):
    """Are drawings numbered instead of overwritten, and bad labels or data refused?"""
    import base64
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), "white").save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    assert save_drawing(tmp_path, url, 3).name == "3_drawn_1.png"
    assert save_drawing(tmp_path, url, 3).name == "3_drawn_2.png"
    with pytest.raises(ValueError, match="digit 0-9"):
        save_drawing(tmp_path, url, 12)
    with pytest.raises(ValueError, match="PNG picture"):
        save_drawing(tmp_path, "data:text/html,<b>", 3)
