"""Markdown that no browser runs: a student's written answer is shown as text, never as code.

nbconvert writes the raw HTML of a markdown cell into the page as it is (and the code of a
``mermaid`` block, and the address of a ``javascript:`` link), and Formgrader renders
every markdown cell with a template of its own, which nbconvert's ``sanitize_html`` does
not reach. :func:`inert_markdown` rewrites a markdown source so that its rendering holds no
markup of the student's:

1. every ``<`` that could open a tag, a comment or an autolink becomes ``&lt;``, which
   Markdown shows as ``<``: ``<img src=x onerror=...>`` reads as that text (a web address
   in ``<...>`` loses its brackets instead, and stays a link). Without such a ``<``
   nbconvert's renderer writes no markup of the student's, whatever the Markdown around
   it, because it escapes every other character it copies (in code and maths too, where
   ``&lt;`` therefore shows as written);
2. that source is rendered as Formgrader renders it and checked: only the tags and
   attributes nbconvert's renderer writes, links to web and mail addresses, pictures from
   the web or attached as PNG, JPEG or GIF;
3. if the check fails (a ``javascript:`` link, a picture in another format, an attachment
   that is missing), the answer is shown as plain text instead, line by line, with every
   punctuation mark escaped so that nothing in it is Markdown.

:func:`markdown2html` does the same as nbconvert's Jinja filter of that name, for
``HTMLExporter.filters`` in ``nbgrader_config.py``: Formgrader and the feedback pages then
render markdown this way, also that of notebooks graded before this step existed.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from jinja2 import pass_context
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

# What opens markup in HTML (a tag, an end tag, a comment or declaration, a processing
# instruction) and in Markdown (raw HTML, an autolink): "<" before a letter, "/", "!", "?".
_MARKUP_START = re.compile(r"<(?=[A-Za-z/!?])")
_WEB_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^<>\s]*)>", re.IGNORECASE)
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark

# What nbconvert's Markdown renderer (mistune, pygments, nbconvert's heading anchors) writes.
RENDERED_TAGS = frozenset({
    "a", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "img", "input", "li", "ol", "p", "pre", "span", "strong",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
})
RENDERED_ATTRIBUTES = frozenset({"alt", "checked", "class", "disabled", "href", "id", "src",
                                 "start", "style", "title", "type"})
_TABLE_ALIGNMENT = re.compile(r"text-align:\s*(left|center|right)")
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
PICTURE_SCHEMES = frozenset({"http", "https"})
_PICTURE_DATA = re.compile(r"data:image/(png|jpeg|gif);", re.IGNORECASE)
# A browser ignores these around an address, and tabs and line breaks inside it.
_AROUND_ADDRESS = "".join(chr(code) for code in range(0x21))
_INSIDE_ADDRESS = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")


def escape_markup(text: str) -> str:
    """``text`` with every ``<`` that could open HTML markup written as ``&lt;``; a web or
    mail address in ``<...>`` loses its brackets (it is still a link)."""
    return _MARKUP_START.sub("&lt;", _WEB_AUTOLINK.sub(r"\1", text))


def literal_markdown(text: str) -> str:
    """Markdown that shows ``text`` as it is, line by line, with no formatting at all."""
    return "\n".join(_PUNCTUATION.sub(r"\\\1", line.strip()) + "  "
                     for line in text.splitlines())


def render_markdown(source: str, attachments: dict | None = None, path: str = "") -> str:
    """``source`` as HTML, rendered the way nbconvert's HTMLExporter renders a markdown cell
    (and so Formgrader and the feedback pages)."""
    renderer = IPythonRenderer(escape=False, attachments=attachments or {}, path=path)
    return MarkdownWithMath(renderer=renderer).render(source)


def address_is_safe(address: str, schemes: frozenset[str], pictures: bool = False) -> bool:
    """Whether a browser would follow ``address`` only to a page, a mail or a picture:
    an address on this site, or one with a scheme in ``schemes`` (and, for ``pictures``,
    a PNG, JPEG or GIF picture in a ``data:`` address)."""
    address = _INSIDE_ADDRESS.sub("", address).strip(_AROUND_ADDRESS)
    scheme = _SCHEME.match(address)
    if scheme is None or scheme.group(1).lower() in schemes:
        return True
    return pictures and _PICTURE_DATA.match(address) is not None


class _Inspector(HTMLParser):
    """Collects what in a rendered page is more than nbconvert's renderer writes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in RENDERED_TAGS:
            self.problems.append(f"a <{tag}> element")
        for name, value in attrs:
            value = value or ""
            if name not in RENDERED_ATTRIBUTES:
                self.problems.append(f"a {name} attribute")
            elif name == "href" and not address_is_safe(value, LINK_SCHEMES):
                self.problems.append(f"a link to {value[:40]!r}")
            elif name == "src" and not address_is_safe(value, PICTURE_SCHEMES, pictures=True):
                self.problems.append(f"a picture from {value[:40]!r}")
            elif name == "style" and not _TABLE_ALIGNMENT.fullmatch(value):
                self.problems.append(f"a style {value[:40]!r}")
            elif name == "type" and value != "checkbox":
                self.problems.append(f"an input of type {value[:20]!r}")

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        self.problems.append("an HTML comment")

    def handle_decl(self, decl):
        self.problems.append("an HTML declaration")

    def handle_pi(self, data):
        self.problems.append("an HTML processing instruction")

    def unknown_decl(self, data):
        self.problems.append("an HTML declaration")


def markup_problems(html: str) -> list[str]:
    """What in ``html`` could run or load more than a page, a mail or a picture (empty if
    it holds only what nbconvert's Markdown renderer writes)."""
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems


def renders_inert(source: str, attachments: dict | None = None) -> bool:
    """Whether the markdown ``source`` renders to a page with nothing in it that runs."""
    try:
        html = render_markdown(source, attachments)
    except Exception:  # noqa: BLE001 - e.g. a missing attachment: not shown this way
        return False
    return not markup_problems(html)


def inert_markdown(source: str, attachments: dict | None = None) -> str:
    """The markdown ``source`` rewritten so that no browser runs anything in its rendering;
    its text stays readable (see the module's description)."""
    escaped = escape_markup(source)
    if renders_inert(escaped, attachments):
        return escaped
    literal = literal_markdown(source)
    if renders_inert(literal, attachments):
        return literal
    return ""  # not seen: literal Markdown has no markup, links or pictures


@pass_context
def markdown2html(context, source: str) -> str:
    """nbconvert's ``markdown2html`` Jinja filter, on the inert form of the markdown."""
    cell = context.get("cell") or {}
    attachments = cell.get("attachments") or {}
    path = (context.get("resources") or {}).get("metadata", {}).get("path", "")
    return render_markdown(inert_markdown(source, attachments), attachments, path)
