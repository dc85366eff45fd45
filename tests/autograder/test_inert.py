"""Does nothing a student hands in run in Formgrader or the feedback page, answers readable?

Each test builds a graded notebook with nbgrader's cell helpers, makes it inert and, where
it says so, renders it with Formgrader's own template, as Formgrader does.
"""

from __future__ import annotations

import base64
import html
import re

import nbformat
import pytest
from helpers.course import ROOT
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell
from nbgrader.server_extensions.formgrader import handlers
from nbgrader.tests import create_grade_and_solution_cell, create_grade_cell
from nbgrader.utils import determine_grade
from traitlets.config import Config

from course_lib.autograder.inert import MakeInert, clean_html
from course_lib.autograder.inert_markdown import inert_markdown, render_markdown
from course_lib.teacher.course import course_config

ANSWER = "The network learned the training digits by heart, so it generalises badly."
MARKDOWN_PAYLOAD = ANSWER + ' <img src=x onerror="window.ran_markdown=1">'
HTML_PAYLOAD = ('<b>Look</b> <img src=x onerror="window.ran_onerror=1">'
                '<script>window.ran_script=1</script>')
JAVASCRIPT_PAYLOAD = "window.ran_javascript=1"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
FORMGRADER_RESOURCES = {"base_url": "", "index": 0, "total": 1, "notebook_id": "mnist_cnn",
                        "submission_id": "1", "assignment_id": "mnist_cnn", "student": "s"}

# Markdown that runs script in nbconvert's rendering, or would without the check.
HOSTILE_MARKDOWN = [
    MARKDOWN_PAYLOAD,
    "<svg><script>window.ran=1</script></svg>",
    "<!-- --!><img src=x onerror=window.ran=1>",
    "[click](javascript:window.ran=1)",
    "[click](&#106;avascript:window.ran=1)",
    "[click]( JAVASCRIPT:window.ran=1 )",
    "[click][1]\n\n[1]: javascript:window.ran=1",
    "<javascript:window.ran=1>",
    "![picture](javascript:window.ran=1)",
    "[page](data:text/html;base64,PHNjcmlwdD4=)",
    "```mermaid\n<img src=x onerror=window.ran=1>\n```",
    "$$\n<img src=x onerror=window.ran=1>\n$$",
    "\\begin{equation}<img src=x onerror=window.ran=1>\\end{equation}",
    "<a href='https://example.org' onclick='window.ran=1'>a link</a>",
    "<div\nonmouseover=window.ran=1>hover</div>",
    "![missing](attachment:nothing.png)",
]


def live_script(page: str) -> list[str]:
    """What of the payloads in ``page`` a browser would run: script elements, event handlers
    and script addresses (found with plain patterns, independently of the code under test;
    Formgrader's own scripts and handlers do not name ``window.ran``)."""
    found = re.findall(r"<script\b[^>]*>[^<]*window\.ran[^<]*</script>", page, re.IGNORECASE)
    found += re.findall(r"<[a-z][^>]*\son[a-z]+\s*=[^>]*window\.ran[^>]*>", page, re.IGNORECASE)
    found += re.findall(r"(?:href|src)\s*=\s*[\"']?\s*(?:javascript|vbscript)", page,
                        re.IGNORECASE)
    found += re.findall(r"<svg|<math|<object|<embed", page, re.IGNORECASE)
    # nbconvert shows "isolated" HTML in an iframe of its own: what runs there counts too.
    isolated = r"<iframe[^>]*src=\"data:text/html;base64,([^\"]*)\""
    for encoded in re.findall(isolated, page):
        found += live_script(base64.b64decode(encoded).decode())
    found += re.findall(r"<iframe", re.sub(isolated, "", page), re.IGNORECASE)
    return found


def hostile_notebook() -> nbformat.NotebookNode:
    """A graded notebook with a written answer, an output and metadata that run script."""
    answer = create_grade_and_solution_cell(MARKDOWN_PAYLOAD, "markdown",
                                            "explain_generalisation", 2)
    shows = new_code_cell("from IPython.display import HTML, Javascript, display\n...", outputs=[
        new_output("display_data", data={"text/html": HTML_PAYLOAD,
                                          "text/plain": "<IPython.core.display.HTML object>"},
                   metadata={"text/html": {"isolated": True}}),
        new_output("display_data", data={"application/javascript": JAVASCRIPT_PAYLOAD}),
        new_output("display_data", data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "1", "version_major": 2},
            "text/plain": "IntSlider(value=3)"}),
        new_output("execute_result", data={"image/svg+xml": "<svg onload='window.ran=1'/>",
                                           "text/plain": "<Figure size 640x480>"},
                   execution_count=1),
        new_output("stream", name="stdout", text="<b>printed</b>\n"),
    ])
    test = create_grade_cell("assert ok", "code", "test_architecture", 3)
    test.outputs = [new_output("error", ename="AssertionError", evalue="The <b> layer is wrong",
                               traceback=["AssertionError: The <b> layer is wrong"])]
    passing = create_grade_cell("assert ok", "code", "test_identify_digits", 2)
    notebook = new_notebook(cells=[answer, shows, test, passing])
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {}, "version_major": 2, "version_minor": 0}}
    return notebook


def formgrader_page(notebook, config: Config | None = None) -> str:
    """The notebook as Formgrader's submission page shows it (nbgrader's own template)."""
    config = Config(config or {})
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    page, _ = HTMLExporter(config=config).from_notebook_node(
        notebook, resources=dict(FORMGRADER_RESOURCES))
    return page


def visible_text(page: str) -> str:
    """The text of a page as a reader sees it (tags removed, entities read)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_formgrader_page_runs_nothing_of_the_student_and_shows_the_answer():
    """Does Formgrader's page of an inert notebook hold no payload, with the answer as text?"""
    notebook = hostile_notebook()
    assert live_script(formgrader_page(notebook))  # the payloads run without this step
    MakeInert().preprocess(notebook, {})
    page = formgrader_page(notebook)
    assert live_script(page) == []
    text = visible_text(page)
    assert ANSWER in text
    assert '<img src=x onerror="window.ran_markdown=1">' in text  # shown, not run
    assert "Look" in text and "IntSlider(value=3)" in text and "<b>printed</b>" in text
    assert JAVASCRIPT_PAYLOAD in text  # the removed script, shown as text
    assert "The <b> layer is wrong" in text


def test_outputs_keep_text_and_pictures_and_lose_scripts():
    """Are scripts, widgets and SVG removed, HTML cleaned, and the text and PNG kept?"""
    notebook = hostile_notebook()
    notebook.cells[1].outputs.append(new_output("display_data", data={
        "image/png": PNG, "text/plain": "<Figure>"}, metadata={"image/png": {"width": 50}}))
    MakeInert().preprocess(notebook, {})
    html_output, script, widget, figure, stream, picture = notebook.cells[1].outputs
    assert "onerror" not in html_output.data["text/html"].replace("onerror=&quot;", "")
    assert "<script>" not in html_output.data["text/html"]
    assert "<b>Look</b>" in html_output.data["text/html"]
    assert html_output.metadata == {}
    assert script.data == {"text/plain": JAVASCRIPT_PAYLOAD}
    assert widget.data == {"text/plain": "IntSlider(value=3)"}
    assert figure.data == {"text/plain": "<Figure size 640x480>"}
    assert stream.text == "<b>printed</b>\n"
    assert picture.data == {"image/png": PNG, "text/plain": "<Figure>"}
    assert picture.metadata == {"image/png": {"width": 50}}
    assert "widgets" not in notebook.metadata
    nbformat.validate(notebook)


def test_scores_are_the_same_before_and_after():
    """Does nbgrader read the same score from every graded cell after this step?"""
    notebook = hostile_notebook()
    before = [determine_grade(cell) for cell in notebook.cells if "nbgrader" in cell.metadata]
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    MakeInert().preprocess(notebook, {})
    after = [determine_grade(cell) for cell in notebook.cells if "nbgrader" in cell.metadata]
    assert after == before == [(None, 2.0), (0, 3.0), (2.0, 2.0)]
    assert [cell.source for cell in notebook.cells if cell.cell_type == "code"] == sources


@pytest.mark.parametrize("source", HOSTILE_MARKDOWN)
def test_hostile_markdown_renders_as_text(source):
    """Does no known trick in a written answer render as script, with its words still shown?"""
    rendered = render_markdown(inert_markdown(source))
    assert live_script(rendered) == []
    words = set(re.findall(r"[a-z]{5,}", source)) - {"mermaid"}  # a code block's language
    assert all(word in visible_text(rendered) for word in words), rendered


def test_honest_answers_and_the_lesson_text_are_left_as_written():
    """Are Markdown, maths and comparisons without markup left exactly as they were?"""
    honest = ("## My answer\n\nThe *training* accuracy is **higher**: 0.99 > 0.97, and "
              "a < b.\n\n- one\n- two\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\n$x^2 < 3$ and "
              "`model.fit(x, y)`; see [Keras](https://keras.io).\n\n> quoted\n\n---\n\n"
              "3. three\n\n```python\nx = [i for i in range(3)]\n```\n\n"
              "![pic](https://example.org/a.png) ~~no~~, [ ] open\n")
    assert inert_markdown(honest) == honest
    for name in ("mnist_cnn", "mnist_cnn_nl"):
        lesson = nbformat.read(ROOT / "source" / name / f"{name}.ipynb", as_version=4)
        for cell in lesson.cells:
            if cell.cell_type == "markdown":
                assert inert_markdown(cell.source, cell.get("attachments")) == cell.source


def test_a_javascript_link_turns_the_answer_into_plain_text():
    """Is an answer with a script link shown as its plain text, every word kept?"""
    source = "# My *answer*\nIt overfits, see [this](javascript:window.ran=1) & more."
    rendered = render_markdown(inert_markdown(source))
    assert "<a " not in rendered and "<h1" not in rendered
    assert visible_text(rendered).split() == [
        "#", "My", "*answer*", "It", "overfits,", "see", "[this](javascript:window.ran=1)",
        "&", "more."]


def test_attachments_keep_pictures_only():
    """Are attached pictures kept and an attached page or SVG removed, with its link?"""
    pictures = new_markdown_cell("![digit](attachment:seven.png)", attachments={
        "seven.png": {"image/png": PNG}})
    page = new_markdown_cell("![digit](attachment:page)", attachments={
        "page": {"text/html": base64.b64encode(b"<script>1</script>").decode(),
                 "image/svg+xml": "PHN2Zz4="}})
    notebook = new_notebook(cells=[pictures, page])
    MakeInert().preprocess(notebook, {})
    assert pictures.attachments == {"seven.png": {"image/png": PNG}}
    assert f'src="data:image/png;base64,{PNG}"' in formgrader_page(new_notebook(
        cells=[pictures]))
    assert "attachments" not in page or page.attachments == {}
    assert "<img" not in formgrader_page(new_notebook(cells=[page]))


def test_raw_cells_show_their_markup_as_text():
    """Is a raw cell's HTML escaped?"""
    raw = new_raw_cell("<img src=x onerror=window.ran=1>")
    MakeInert().preprocess(new_notebook(cells=[raw]), {})
    assert raw.source == "&lt;img src=x onerror=window.ran=1>"


def test_cleaned_html_keeps_the_model_summary_readable():
    """Does Keras's model summary (rich's HTML) keep its text and colours?"""
    summary = ('<pre style="white-space:pre;overflow-x:auto;line-height:normal;font-family:'
               'Menlo"><span style="font-weight: bold">Model: "sequential"</span>\n'
               '│ conv2d (<span style="color: #0087ff">Conv2D</span>) │ 320 │</pre>\n')
    cleaned = clean_html(summary)
    assert cleaned.startswith('<pre style="white-space:pre;overflow-x:auto;line-height:'
                              'normal;font-family:Menlo;">')
    assert '(<span style="color: #0087ff;">Conv2D</span>) │ 320 │' in cleaned
    assert "position" not in clean_html('<div style="position: fixed; color: red">x</div>')


def test_the_course_settings_render_old_graded_notebooks_inert():
    """Do the course's settings alone keep Formgrader's page of a notebook graded before
    this step (not inert) from running any payload?"""
    page = formgrader_page(hostile_notebook(), course_config(ROOT))
    assert live_script(page) == []
    assert ANSWER in visible_text(page)
