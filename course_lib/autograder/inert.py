"""The graded notebook made inert: nothing a student hands in runs in a browser.

Formgrader shows a graded submission to the teacher on the teacher's own Jupyter server
(with its terminals, cookie and xsrf token), and the feedback page shows it to the
student; both are made from the notebook in ``autograded/``. :class:`MakeInert` rewrites
that notebook, after nbgrader has saved its scores, so that neither page runs anything of
the student's, while the answers stay readable:

* outputs keep plain text, PNG and JPEG pictures and LaTeX as they are; HTML is cleaned
  with bleach (tables, text and colours stay, scripts, event handlers and ``javascript:``
  links are shown as text or dropped) and Markdown is made inert like a written answer;
  scripts (``application/javascript``), widgets, SVG and every other format are removed,
  and an output left with nothing to show shows what was removed as text;
* markdown cells (written answers and the lesson's text alike) are rewritten by
  :func:`~course_lib.autograder.inert_markdown.inert_markdown`: raw HTML reads as text;
* raw cells have their markup escaped; attachments keep PNG, JPEG and GIF pictures only;
* the notebook's widget state is removed.

It comes after ``SaveAutoGrades`` in the autograde steps: scores come from the outputs of
the test cells, and whether a written answer was answered at all from its checksum, both
as graded; this step changes neither a code cell's source nor an error output.
"""

from __future__ import annotations

import json

import bleach
from bleach.css_sanitizer import CSSSanitizer
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from course_lib.autograder.inert_markdown import escape_markup, inert_markdown

KEPT_FORMATS = frozenset({"text/plain", "image/png", "image/jpeg", "text/latex"})
ATTACHMENT_FORMATS = frozenset({"image/png", "image/jpeg", "image/gif"})
NOTEBOOK_METADATA_REMOVED = ("widgets",)

# What cleaned HTML keeps: the text, tables and colours of e.g. Keras's model summary
# (rich's <pre> and <span style>) and pandas' tables.
HTML_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl",
    "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var",
})
HTML_ATTRIBUTES = {
    "*": ["title", "style"], "a": ["href"], "img": ["src", "alt", "width", "height"],
    "td": ["colspan", "rowspan", "align"], "th": ["colspan", "rowspan", "align"],
    "table": ["border"], "ol": ["start"],
}
HTML_PROTOCOLS = frozenset({"http", "https", "mailto"})
# No position, size or display: cleaned HTML cannot lay itself over Formgrader's buttons.
CSS_PROPERTIES = frozenset({
    "color", "background-color", "font-weight", "font-style", "font-family", "font-size",
    "text-decoration", "text-align", "vertical-align", "white-space", "line-height",
    "overflow-x",
})


def clean_html(html: str) -> str:
    """``html`` with only text, tables, pictures, links to web pages and harmless styles;
    any other markup (``<script>``, ``<img onerror=...>``'s handler) is escaped or
    dropped, so that the browser shows it as text or not at all."""
    return bleach.clean(html, tags=HTML_TAGS, attributes=HTML_ATTRIBUTES,
                        protocols=HTML_PROTOCOLS,
                        css_sanitizer=CSSSanitizer(allowed_css_properties=CSS_PROPERTIES),
                        strip=False, strip_comments=True)


def inert_output(output: dict) -> list[str]:
    """Make one cell output inert in place; return the formats it removed."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return []  # streams and errors are shown as text
    data = output.get("data") or {}
    kept, removed = {}, {}
    for form, value in data.items():
        if form in KEPT_FORMATS:
            kept[form] = value
        elif form == "text/html":
            kept[form] = clean_html(_text(value))
        elif form == "text/markdown":
            kept[form] = inert_markdown(_text(value))
        else:
            removed[form] = value
    if removed and "text/plain" not in kept:
        # What the student meant to show, as text: the teacher sees what was attempted.
        kept["text/plain"] = _text(next(iter(removed.values())))
    output["data"] = NotebookNode(kept)
    # The HTML's metadata may ask for an iframe ("isolated"); removed formats need none.
    output["metadata"] = NotebookNode({
        key: value for key, value in (output.get("metadata") or {}).items()
        if key not in removed and key not in ("text/html", "text/markdown")})
    return sorted(removed)


def inert_attachments(cell) -> list[str]:
    """Keep only PNG, JPEG and GIF pictures among a cell's attachments; return the formats
    removed."""
    removed = []
    attachments = cell.get("attachments")
    if not attachments:
        return removed
    for name in list(attachments):
        bundle = attachments[name]
        if not isinstance(bundle, dict):
            del attachments[name]
            removed.append("?")
            continue
        for form in [form for form in bundle if form not in ATTACHMENT_FORMATS]:
            del bundle[form]
            removed.append(form)
        if not bundle:
            del attachments[name]
    return removed


def _text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "".join(value)
    return json.dumps(value, indent=1)


class MakeInert(NbGraderPreprocessor):
    """Make a graded notebook inert for Formgrader and the feedback page (see the module)."""

    def preprocess(self, nb, resources):
        """Remove the notebook's widget state, then make every cell inert."""
        for key in NOTEBOOK_METADATA_REMOVED:
            if key in nb.metadata:
                self.log.warning("Removed the notebook's %s metadata: a browser would run it.",
                                 key)
                del nb.metadata[key]
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        """Make one cell's outputs, markup and attachments inert."""
        removed = inert_attachments(cell)
        if cell.cell_type == "markdown":
            source = inert_markdown(cell.source, cell.get("attachments"))
            if source != cell.source:
                self.log.warning("Cell %d: its markup is shown as text, so that no browser "
                                 "runs it.", cell_index)
                cell.source = source
        elif cell.cell_type == "raw":
            cell.source = escape_markup(cell.source)
        elif cell.cell_type == "code":
            for output in cell.get("outputs", []):
                removed += inert_output(output)
        if removed:
            self.log.warning("Cell %d: removed %s from its outputs or attachments: a browser "
                             "would run it.", cell_index, ", ".join(sorted(set(removed))))
        return cell, resources
