"""The documentation site's reference pages, written from the code at build time.

A MkDocs hook (``hooks:`` in ``mkdocs.yml``). It adds three pages that are never kept as
files, so they cannot drift from what they describe:

* ``reference/configuration.md``: every setting (``.tag(config=True)`` trait) of the
  course's own Configurables, found by reading ``course_lib``, with its default and help;
* ``reference/cli.md``: the help of every ``course`` command, from
  ``course_lib.teacher.cli.build_parser()``;
* ``reference/points.md``: the graded cells and their points, read from the lesson's
  source notebook.

Hand-written pages name a setting's default as ``{{ default GradeInSandbox.memory_mb }}``;
the hook puts the code's default there, and stops the build on a name the code lacks.
``{{ data profiles }}`` stands for the table of training lengths and pass marks, read from
``course_lib.lesson.settings``.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import json
import os
import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "source" / "mnist_cnn" / "mnist_cnn.ipynb"
DEFAULT = re.compile(r"\{\{\s*default\s+([\w.]+)\s*\}\}")
PROFILES_TABLE = "{{ data profiles }}"

# What each graded cell asks and how it is graded: the notebook holds the points, this the
# words. A graded cell missing here (or a row for a cell the notebook lost) stops the build.
GRADED_CELLS = {
    "test_identify_digits": (
        "1. identify the digits of training examples 4 and 100",
        "against the labels, reloaded by the test"),
    "test_architecture": (
        "the lesson's network, built as specified",
        "layer by layer against the reference; the message names the first difference"),
    "test_interpret_predictions": (
        "2. interpret the predictions for examples 4 and 100",
        "quick check against the notebook's `predictions`; graded against what the "
        "student's own network predicts, recomputed"),
    "test_network_accuracy": (
        "the network's accuracy on the test set",
        "measured by the hidden test on freshly loaded test data"),
    "test_compare_accuracy": (
        "3. compare training and test accuracy",
        "quick check against `history` and `test_result` (values in the message); graded "
        "for consistency with the history, the network measured again, and the rule"),
    "explain_generalisation": ("3. explain the difference", "by the teacher"),
    "test_own_digits": (
        "4. test own handwriting",
        "at least three own digit pictures handed in, counted by the grader (not samples, "
        "not blank, not repeated); shapes, value ranges, predictions from the network"),
    "reflect_own_digits": ("4. reflect on it", "by the teacher"),
    "test_tuned_structure": (
        "5. tune the model: the rules",
        "a compiled CNN, input 28x28x1, softmax over 10, categorical cross-entropy, at most "
        "500,000 parameters (the quick check has the same rules)"),
    "test_tuned_accuracy": (
        "5. tune the model: accuracy",
        "the recipe (`tuned_epochs`, `tuned_batch_size`, compile settings) retrained by the "
        "grader on the training data must clear a higher pass mark; its training cost, "
        "counted from the recipe, must fit the budget (the quick check prints it); students "
        "compare attempts by validation accuracy"),
}


@functools.cache
def configurables() -> tuple[type, ...]:
    """The course's classes with settings of their own, in the order of their modules.

    Only modules whose source declares a setting are imported, so building the site
    does not start TensorFlow."""
    from traitlets import HasTraits

    found = []
    for path in sorted((ROOT / "course_lib").rglob("*.py")):
        if "config=True" not in path.read_text(encoding="utf-8"):
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (cls.__module__ == name and issubclass(cls, HasTraits)
                    and cls.class_own_traits(config=True)):
                found.append(cls)
    return tuple(found)


def default_text(cls: type, name: str) -> str:
    """A setting's default as it would be written in a config file."""
    trait = cls.class_traits()[name]
    text = trait.default_value_repr()
    return "(computed when it starts)" if text in ("traitlets.Undefined", "None") and (
        f"_{name}_default" in vars(cls) or name in getattr(cls, "_trait_default_generators",
                                                           {})) else text


def configuration_page() -> str:
    """The configuration reference: one section per class, one entry per setting."""
    lines = [
        "# Configuration",
        "",
        "Every setting of the course's own classes, written from the code when the site is "
        "built. Set them as nbgrader and JupyterHub settings are set: `c.Class.name = value` "
        "in `nbgrader_config.py` (grading) or, for the classroom server, in a file of your "
        "own in `/srv/mnist-course/jupyterhub_config.d/` "
        "(see [the classroom server](../administrators/classroom-server.md)).",
        "",
    ]
    for cls in configurables():
        doc = inspect.getdoc(cls) or ""
        lines += [f"## {cls.__name__}", "", f"`{cls.__module__}.{cls.__name__}`: "
                  f"{doc.splitlines()[0] if doc else ''}", ""]
        for name, trait in sorted(cls.class_own_traits(config=True).items()):
            help_text = inspect.cleandoc(trait.help or "").replace("``", "`") or "(no help text)"
            lines += [f"### `c.{cls.__name__}.{name}`", "",
                      f"{type(trait).__name__}, default `{default_text(cls, name)}`", "",
                      help_text, ""]
    return "\n".join(lines)


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    """A parser's sub-commands, by name, in the order they were added."""
    found = []
    for action in parser._actions:  # argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            found += list(action.choices.items())
    return found


def cli_page() -> str:
    """The command-line reference: `course -h`, then each command's own help, nested."""
    from course_lib.teacher.cli import build_parser

    os.environ["COLUMNS"] = "100"  # argparse wraps the help to this width
    lines = ["# The `course` command", "",
             "Each command's help as `course COMMAND -h` prints it, written from the code "
             "when the site is built.", ""]

    def add(parser: argparse.ArgumentParser, words: list[str]) -> None:
        level = "#" * min(len(words) + 1, 6)
        lines.extend([f"{level} `{' '.join(words)}`", "", "```text",
                      parser.format_help().rstrip(), "```", ""])
        for name, child in _subcommands(parser):
            add(child, words + [name])

    add(build_parser(), ["course"])
    return "\n".join(lines)


def graded_cells(notebook: Path = NOTEBOOK) -> list[tuple[str, int, bool]]:
    """Each graded cell of a notebook: its grade id, points and whether a person grades it."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    found = []
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            found.append((meta["grade_id"], int(meta["points"]), cell["cell_type"] == "markdown"))
    return found


def points_page(notebook: Path = NOTEBOOK) -> str:
    """The assignments and their points, the points read from the source notebook."""
    cells = graded_cells(notebook)
    ids = [grade_id for grade_id, _, _ in cells]
    unknown = sorted(set(ids) - set(GRADED_CELLS))
    lost = sorted(set(GRADED_CELLS) - set(ids))
    if unknown or lost:
        raise ValueError(
            f"{notebook.name} and GRADED_CELLS in {Path(__file__).name} name different graded "
            f"cells: only in the notebook {unknown}, only in the list {lost}. Describe each "
            "graded cell in GRADED_CELLS.")
    automatic = sum(points for _, points, by_hand in cells if not by_hand)
    by_teacher = sum(points for _, points, by_hand in cells if by_hand)
    lines = ["# The assignments and their points", "",
             f"Read from `source/mnist_cnn/mnist_cnn.ipynb` when the site is built (the Dutch "
             f"lesson has the same cells and points). Total: {automatic + by_teacher} points, "
             f"{automatic} graded automatically and {by_teacher} by the teacher.", "",
             "| assignment | graded cell | points | how |", "| --- | --- | --- | --- |"]
    for grade_id, points, _ in cells:
        what, how = GRADED_CELLS[grade_id]
        lines.append(f"| {what} | `{grade_id}` | {points} | {how} |")
    lines += ["", "The assignments are numbered in the order the lesson reaches them (own "
              "handwriting comes before tuning). How the trust in these points is built: "
              "[how grading is trusted](../trust.md).", ""]
    return "\n".join(lines)


def profiles_table() -> str:
    """Training lengths and pass marks per data profile, from ``course_lib.lesson.settings``."""
    from course_lib.lesson.settings import FULL, PROFILES, SAMPLE

    names = {FULL: "full MNIST", SAMPLE: "embedded sample"}
    lines = ["| data | validation images | epochs (batch size) | lesson's network must reach "
             "| tuned network must reach | tuned training budget (multiply-adds) "
             "| grader's safety net |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for key, name in names.items():
        p = PROFILES[key]
        lines.append(f"| {name} | {p.validation_size:,} | {p.epochs} ({p.batch_size}) "
                     f"| {p.reference_threshold:.2f} | {p.tuned_threshold:.2f} "
                     f"| {p.tuned_max_cost // 10**9:,} billion | {p.tuned_max_seconds:g} s |")
    return "\n".join(lines)


PAGES = {
    "reference/configuration.md": configuration_page,
    "reference/cli.md": cli_page,
    "reference/points.md": points_page,
}


def on_files(files, config):
    """Add the generated reference pages to the site."""
    for src_uri, write in PAGES.items():
        files.append(File.generated(config, src_uri, content=write()))
    return files


def on_page_markdown(markdown, page, config, files):
    """Put each setting's default from the code where a page names it."""
    classes = {cls.__name__: cls for cls in configurables()}

    def default(match: re.Match) -> str:
        cls_name, _, name = match.group(1).partition(".")
        cls = classes.get(cls_name)
        if cls is None or name not in cls.class_traits(config=True):
            raise ValueError(f"{page.file.src_uri} names the setting {match.group(1)}, which "
                             f"no Configurable of course_lib has; known: {sorted(classes)}")
        return default_text(cls, name)

    if PROFILES_TABLE in markdown:
        markdown = markdown.replace(PROFILES_TABLE, profiles_table())
    return DEFAULT.sub(default, markdown)
