"""English left in what a Dutch lesson shows: the words to look for, and where to look.

The check is generic: a list of common English words (and the lesson's own English terms)
that no Dutch sentence contains, matched as whole words outside code (backticked names,
file names, Python identifiers) and menu paths (``Kernel ▸ Restart Kernel and Run All
Cells``: the lesson names JupyterLab's menus as its screen shows them, in both languages).
Output written by Keras itself (the epoch lines of ``fit``, the table of ``summary()``) or
by Python (an object's ``<... at 0x...>``, the ``NameError`` of a cell whose answer is
missing) is not the course's and is left out.
"""

from __future__ import annotations

import re

ENGLISH_WORDS = frozenset("""
the your you yours picture pictures probability training validation accuracy loss predicted
network networks says save saved clear which digit digits data sample images image
most likely wrong first draw drawing choose becomes files pass mark billion
read correctly own lesson tuned using note found should with and from this that
could not yet no needs at least filled
""".split())

# Text outputs that come from Keras or Python, not from the lesson: epoch lines, progress
# bars, the summary table, an object's default repr, Python's NameError.
_NOT_THE_COURSE = re.compile(r"^\s*(Epoch \d+/\d+|\d+/\d+ .*(step|ETA)|.*[┃│┏┡└━]|"
                             r".*(Total|Trainable|Non-trainable|Optimizer) params:|Model: |"
                             r"<Figure size [^>]*>$|<[\w.]+ object at 0x[0-9a-f]+>$|"
                             r"name '\w+' is not defined$)")
_CODE = re.compile(r"`[^`]*`|\b[\w.]*[_./][\w./-]*\b|\w+ ▸ [^).*]*")


def english_words(text: str) -> list[str]:
    """The English words in ``text`` (each once, in order), outside code and Keras' lines."""
    found = []
    for line in text.splitlines():
        if _NOT_THE_COURSE.match(line):
            continue
        for word in re.findall(r"[A-Za-z]+", _CODE.sub(" ", line)):
            if word.lower() in ENGLISH_WORDS and word.lower() not in found:
                found.append(word.lower())
    return found


def figure_texts(figure) -> list[str]:
    """Every text of a matplotlib figure once drawn: titles, axis labels, tick labels,
    legend entries, colour-bar labels, annotations."""
    from matplotlib.text import Text

    figure.draw_without_rendering()
    return [text.get_text() for text in figure.findobj(Text) if text.get_text().strip()]


# A cell put after the imports of a notebook run for the check: every figure the notebook
# shows and every canvas also show their texts as text/plain, so that the run's outputs
# hold them (a picture's own output is a PNG).
SHOW_TEXTS_CELL = '''
from IPython import get_ipython
from matplotlib.figure import Figure
from matplotlib.text import Text

def _figure_texts(figure, printer, cycle):
    figure.draw_without_rendering()
    printer.text("\\n".join(t.get_text() for t in figure.findobj(Text) if t.get_text()))

get_ipython().display_formatter.formatters["text/plain"].for_type(Figure, _figure_texts)
_canvas_bundle = DigitCanvas._repr_mimebundle_

def _canvas_with_words(self, **kwargs):
    bundle = _canvas_bundle(self, **kwargs) or {}
    data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
    data = {**data, "text/plain": "\\n".join([*self.words.values(), self.status])}
    return data, metadata

DigitCanvas._repr_mimebundle_ = _canvas_with_words
'''


def shown_text(notebook) -> str:
    """Everything a run notebook shows as text: printed lines, values, errors, and the
    text/plain of pictures and widgets (with :data:`SHOW_TEXTS_CELL` run first)."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
            if output.get("output_type") == "error":
                parts.append(f"{output.get('evalue', '')}")
    return "\n".join(part if isinstance(part, str) else "".join(part) for part in parts)
