"""``course leaderboard``: who achieves the best accuracy, by the grader's own measurement.

The class competition of the tuned network is judged on the number the grader measured
when it trained each tuned recipe itself (:func:`course_lib.autograder.checks.
check_tuned_accuracy`), kept in the grading record beside each graded submission
(:func:`course_lib.teacher.records.graded_measurements`); never on a number a student
printed or stored. Ties go to the cheaper recipe (its counted training cost), then to the
smaller one (its parameters). Submissions without such a number are listed apart, with
the reason: not graded, over the training budget, breaking the rules.

Students appear anonymously ("student 7", a number drawn once per student and kept in
:data:`ALIASES`, so it says nothing of their id) unless they chose a name: one line in a
file :data:`NAME_FILE` handed in beside their notebook. A chosen name is plain text, cut
to :data:`NAME_LENGTH` characters, and refused (the student stays anonymous) when it
names another student of the class (an id, a first, last or full name), looks like an
anonymous label, or is chosen by two students; the HTML page escapes whatever it shows.

:func:`publish` writes the page into :data:`PUBLISHED` in the course folder, which
``course autograde`` does after every grading and the classroom server's leaderboard
service (:mod:`course_lib.teacher.leaderboard_service`) shows to the class.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from course_lib.lesson.language import LANGUAGES, format_number, speaking
from course_lib.teacher import records
from course_lib.teacher.course import (
    ASSIGNMENT,
    gradebook_url,
    open_gradebook,
    step_folder,
    submitted_students,
)

NAME_FILE = "leaderboard-name.txt"  # a student's chosen name, beside their notebook
NAME_LENGTH = 24  # characters of a chosen name shown
NAME_BYTES = 1024  # read of the name file at most
ALIASES = "leaderboard-aliases.json"  # in the course folder: id -> anonymous number
PUBLISHED = "leaderboard"  # in the course folder: the page of each assignment
TUNED_CHECK = "test_tuned_accuracy"  # the check whose measurement counts
SERVICE = "leaderboard"  # the classroom server's service: /services/leaderboard/

TEXTS = {
    "en": {
        "title": "Who achieves the best accuracy?",
        "intro": "The accuracy is the one the grader measured itself: it trained each tuned "
                 "recipe on the training data and tested it on the {count} test digits. "
                 "Equal accuracy: the cheaper training comes first.",
        "rank": "rank", "name": "name", "accuracy": "test accuracy",
        "parameters": "parameters", "cost": "training cost (billion multiply-adds)",
        "apart": "Not in the ranking", "reason": "why", "nobody": "No tuned network has been "
        "graded yet.", "student": "student {number}", "updated": "Updated {time}.",
        "mark": "pass mark {mark}", "mixed": "Careful: these were graded on different data "
        "({kinds}); only accuracies on the same data compare.",
        "not_graded": "not graded yet, or its grading failed (course autograde names why)",
        "old_record": "graded before the leaderboard kept the grader's numbers: grade it "
                      "again (course autograde {assignment} --force)",
        "no_recipe": "no tuned network was checked (tuned_model, tuned_epochs or "
                     "tuned_batch_size missing or not readable)",
        "over_budget": "over the training budget ({cost} of {budget} billion multiply-adds)",
        "breaks_rules": "the tuned network breaks the rules (see the feedback)",
    },
    "nl": {
        "title": "Wie haalt de beste nauwkeurigheid?",
        "intro": "De nauwkeurigheid is die welke het beoordelingsprogramma zelf mat: het trainde "
                 "elk afgesteld recept op de trainingsdata en testte het op de {count} "
                 "testcijfers. Bij gelijke nauwkeurigheid komt de goedkoopste training eerst.",
        "rank": "plaats", "name": "naam", "accuracy": "nauwkeurigheid op de testdata",
        "parameters": "parameters", "cost": "trainingskost (miljard vermenigvuldigingen)",
        "apart": "Niet in de rangschikking", "reason": "waarom",
        "nobody": "Er is nog geen afgesteld netwerk beoordeeld.", "student": "leerling {number}",
        "updated": "Bijgewerkt op {time}.", "mark": "drempel {mark}",
        "mixed": "Opgelet: deze zijn op verschillende data beoordeeld ({kinds}); alleen "
                 "nauwkeurigheden op dezelfde data zijn te vergelijken.",
        "not_graded": "nog niet beoordeeld, of de beoordeling mislukte (course autograde "
                      "zegt waarom)",
        "old_record": "beoordeeld voor de rangschikking de metingen bewaarde: beoordeel "
                      "opnieuw (course autograde {assignment} --force)",
        "no_recipe": "geen afgesteld netwerk gecontroleerd (tuned_model, tuned_epochs of "
                     "tuned_batch_size ontbreekt of is onleesbaar)",
        "over_budget": "boven het trainingsbudget ({cost} van {budget} miljard "
                       "vermenigvuldigingen)",
        "breaks_rules": "het afgestelde netwerk volgt de regels niet (zie de feedback)",
    },
}


@dataclass
class Entry:
    """One student's place: ranked (``accuracy`` set) or apart (``reason`` set)."""

    student: str
    shown: str = ""  # the name the page shows: chosen, or the anonymous label
    accuracy: float | None = None
    test_size: int = 0
    parameters: int | None = None
    cost: int | None = None  # training cost in multiply-adds, as the grader counted it
    budget: int | None = None
    data: str = ""  # the kind of data it was graded on: "full" or "sample"
    rank: int = 0
    reason: str = ""  # a key of TEXTS: why it is not ranked
    facts: dict | None = None  # the grader's measurement, for the reason's numbers

    @property
    def correct(self) -> int:
        """Test digits classified correctly: what the ranking compares (no rounding)."""
        return round((self.accuracy or 0) * self.test_size)


@dataclass
class Board:
    """The ranked entries and those listed apart, with refused names (for the teacher)."""

    assignment: str
    ranked: list[Entry]
    apart: list[Entry]
    refused_names: dict[str, str]  # student -> why their chosen name is not shown


# ---- gathering --------------------------------------------------------------------------

def entry_for(student: str, record: dict) -> Entry:
    """A student's entry from their grading record (:func:`records.read_grading_record`)."""
    if not record:
        return Entry(student, reason="not_graded")
    if "measured" not in record:
        return Entry(student, reason="old_record")
    facts = record["measured"].get(TUNED_CHECK)
    if not isinstance(facts, dict):
        return Entry(student, reason="no_recipe")
    entry = Entry(student, parameters=_whole(facts.get("parameters")),
                  cost=_whole(facts.get("cost")), budget=_whole(facts.get("budget")),
                  data=str(facts.get("data", "")), facts=facts)
    accuracy, size = facts.get("accuracy"), _whole(facts.get("test_size"))
    if facts.get("status") == "trained" and isinstance(accuracy, (int, float)) \
            and 0 <= accuracy <= 1 and size:
        entry.accuracy, entry.test_size = float(accuracy), size
    elif facts.get("status") in ("over_budget", "breaks_rules"):
        entry.reason = facts["status"]
    else:
        entry.reason = "no_recipe"
    return entry


def _whole(value) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None


def rank(entries: list[Entry]) -> list[Entry]:
    """The entries with an accuracy, best first; equal accuracy: lower cost, then fewer
    parameters first. Entries equal in all three share a rank."""
    def key(entry: Entry):
        return (-entry.correct / entry.test_size, entry.cost if entry.cost is not None
                else float("inf"), entry.parameters or 0)

    ranked = sorted((e for e in entries if e.accuracy is not None),
                    key=lambda e: (key(e), e.shown, e.student))
    for position, entry in enumerate(ranked, start=1):
        previous = ranked[position - 2] if position > 1 else None
        entry.rank = previous.rank if previous and key(previous) == key(entry) else position
    return ranked


def build_board(course_dir: Path, assignment: str = ASSIGNMENT) -> Board:
    """Everything the page shows, from the grading records and the names handed in."""
    course_dir = Path(course_dir)
    class_members = _class_members(course_dir)
    students = sorted(set(submitted_students(course_dir, assignment)) | _graded(
        course_dir, assignment))
    entries = [entry_for(s, records.read_grading_record(course_dir, s, assignment))
               for s in students]
    aliases = anonymous_numbers(course_dir, students)
    chosen, refused = chosen_names(course_dir, assignment, students, class_members)
    for entry in entries:
        entry.shown = chosen.get(entry.student) or f"#{aliases[entry.student]}"
    ranked = rank(entries)
    apart = sorted((e for e in entries if e.accuracy is None), key=lambda e: e.shown)
    return Board(assignment, ranked, apart, refused)


def _graded(course_dir: Path, assignment: str) -> set[str]:
    """Students with a grading record of ``assignment`` (also once their hand-in is gone)."""
    pattern = step_folder(course_dir, "autograded", "*", assignment)
    suffix = f"-{records.RECORD_NAME}"
    return {p.parent.name for p in pattern.parent.parent.glob(f"*/{pattern.name}{suffix}")}


def _class_members(course_dir: Path) -> dict[str, list[str]]:
    """Each student of the gradebook: their id, first, last and full name."""
    try:
        with open_gradebook(gradebook_url(course_dir)) as book:
            return {s.id: [s.id, s.first_name or "", s.last_name or "",
                           f"{s.first_name or ''} {s.last_name or ''}"] for s in book.students}
    except Exception:  # noqa: BLE001 - no gradebook yet: the ids still protect
        return {}


def anonymous_numbers(course_dir: Path, students: list[str]) -> dict[str, int]:
    """Each student's anonymous number: drawn at random the first time, then kept (in
    :data:`ALIASES`, readable by the teacher only), so it stays the same all term and says
    nothing of the id or the order of the class list."""
    path = Path(course_dir) / ALIASES
    try:
        known = {str(k): int(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError, TypeError, AttributeError):
        known = {}
    new = [s for s in students if s not in known]
    if new:
        free = [n for n in range(1, len(known) + len(new) + 1) if n not in known.values()]
        secrets.SystemRandom().shuffle(free)
        known.update(zip(new, free, strict=False))
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(known, file, indent=1, sort_keys=True)
    return known


# ---- chosen names -----------------------------------------------------------------------

def clean_name(raw: bytes) -> str:
    """A chosen name as shown: the first line as text, without control or formatting
    characters (no direction overrides, no invisible ones), spaces collapsed, at most
    :data:`NAME_LENGTH` characters."""
    text = raw[:NAME_BYTES].decode("utf-8", errors="replace")
    text = unicodedata.normalize("NFKC", text).lstrip("\ufeff").splitlines()[0] \
        if text.strip() else ""
    text = "".join(c for c in text if not unicodedata.category(c).startswith("C"))
    return " ".join(text.split())[:NAME_LENGTH].strip()


def _plain(text: str) -> str:
    """A name as compared: case, accents, spaces and punctuation left out."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum())


ANONYMOUS_LABEL = re.compile(r"^(student|leerling|#)?\d+$")


def name_problem(name: str, student: str, class_members: dict[str, list[str]],
                 students: list[str]) -> str:
    """Why ``name`` cannot be shown for ``student`` (empty: it can)."""
    plain = _plain(name)
    if not plain:
        return "it has no letters or digits"
    if ANONYMOUS_LABEL.match(plain) or ANONYMOUS_LABEL.match(_plain(name.replace("#", ""))):
        return "it looks like an anonymous label"
    for other in sorted(set(class_members) | set(students)):
        if other == student:
            continue
        if plain in {_plain(n) for n in [other, *class_members.get(other, [])] if _plain(n)}:
            return f"it names another student of the class ({other})"
    return ""


def chosen_names(course_dir: Path, assignment: str, students: list[str],
                 class_members: dict[str, list[str]]) -> tuple[dict[str, str], dict[str, str]]:
    """The names students chose (:data:`NAME_FILE`), and those refused, with the reason."""
    chosen, refused = {}, {}
    for student in students:
        path = step_folder(course_dir, "submitted", student, assignment) / NAME_FILE
        if path.is_symlink() or not path.is_file():
            continue
        with open(path, "rb") as file:
            name = clean_name(file.read(NAME_BYTES))
        problem = name_problem(name, student, class_members, students)
        if problem:
            refused[student] = problem
        else:
            chosen[student] = name
    by_plain: dict[str, list[str]] = {}
    for student, name in chosen.items():
        by_plain.setdefault(_plain(name), []).append(student)
    for same in by_plain.values():
        if len(same) > 1:
            for student in same:
                del chosen[student]
                refused[student] = "two students chose it"
    return chosen, refused


# ---- showing ----------------------------------------------------------------------------

def _shown(entry: Entry, texts: dict) -> str:
    if entry.shown.startswith("#"):
        return texts["student"].format(number=entry.shown[1:])
    return entry.shown


def _billions(value: int | None) -> str:
    return format_number(value / 1e9, ",.0f") if value is not None else "-"


def _reason(entry: Entry, texts: dict, assignment: str) -> str:
    return texts[entry.reason].format(cost=_billions(entry.cost),
                                      budget=_billions(entry.budget), assignment=assignment)


def _rows(board: Board, texts: dict) -> list[list[str]]:
    return [[str(e.rank), _shown(e, texts), format_number(e.accuracy, ".4f"),
             format_number(e.parameters, ",") if e.parameters is not None else "-",
             _billions(e.cost)] for e in board.ranked]


def table(board: Board, language: str = "en", show_ids: bool = False) -> str:
    """The leaderboard as a table for the terminal."""
    texts = TEXTS[language]
    with speaking(language):
        header = [texts["rank"], texts["name"], texts["accuracy"], texts["parameters"],
                  texts["cost"]]
        rows = _rows(board, texts)
        if show_ids:
            header.append("id")
            for row, entry in zip(rows, board.ranked, strict=True):
                row.append(entry.student)
        lines = [texts["title"] + f" ({board.assignment})", ""]
        if rows:
            widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
            for row in [header, *rows]:
                lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths,
                                                                         strict=True)).rstrip())
        else:
            lines.append(texts["nobody"])
        if board.apart:
            lines += ["", texts["apart"] + ":"]
            for entry in board.apart:
                who = _shown(entry, texts) + (f" ({entry.student})" if show_ids else "")
                lines.append(f"  {who}: {_reason(entry, texts, board.assignment)}")
        kinds = sorted({e.data for e in board.ranked if e.data})
        if len(kinds) > 1:
            lines += ["", texts["mixed"].format(kinds=", ".join(kinds))]
        return "\n".join(lines)


STYLE = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;
color:#1b1b1b}h1{font-size:1.8rem}table{border-collapse:collapse;width:100%}
th,td{padding:.4rem .7rem;border-bottom:1px solid #ccc;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}tr.first td{font-weight:bold}
.note{color:#555}"""


def page(board: Board, language: str = "en", now: datetime | None = None) -> str:
    """The leaderboard as one self-contained HTML page: no scripts, nothing loaded from
    elsewhere, every name escaped."""
    texts = TEXTS[language]
    esc = html.escape
    with speaking(language):
        count = board.ranked[0].test_size if board.ranked else 0
        when = (now or datetime.now()).strftime("%Y-%m-%d %H:%M")
        numeric = [False, False, True, True, True]
        header = "".join(f'<th{" class=n" if n else ""}>{esc(t)}</th>' for t, n in zip(
            [texts["rank"], texts["name"], texts["accuracy"], texts["parameters"],
             texts["cost"]], numeric, strict=True))
        body = []
        for entry, row in zip(board.ranked, _rows(board, texts), strict=True):
            cells = "".join(f'<td{" class=n" if n else ""}>{esc(c)}</td>'
                            for c, n in zip(row, numeric, strict=True))
            body.append(f'<tr{" class=first" if entry.rank == 1 else ""}>{cells}</tr>')
        parts = [f"<h1>{esc(texts['title'])}</h1>"]
        if board.ranked:
            parts.append(f"<p>{esc(texts['intro'].format(count=format_number(count, ',')))}</p>")
            parts.append(f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(body)}"
                         "</tbody></table>")
        else:
            parts.append(f"<p>{esc(texts['nobody'])}</p>")
        kinds = sorted({e.data for e in board.ranked if e.data})
        if len(kinds) > 1:
            parts.append(f"<p class=note>{esc(texts['mixed'].format(kinds=', '.join(kinds)))}"
                         "</p>")
        if board.apart:
            items = "".join(
                f"<li>{esc(_shown(e, texts))}: {esc(_reason(e, texts, board.assignment))}</li>"
                for e in board.apart)
            parts.append(f"<h2>{esc(texts['apart'])}</h2><ul>{items}</ul>")
        parts.append(f"<p class=note>{esc(texts['updated'].format(time=when))}</p>")
    return (f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(texts['title'])}</title><style>{STYLE}</style></head>"
            f"<body>{''.join(parts)}</body></html>\n")


def assignment_language(course_dir: Path, assignment: str) -> str:
    """The language of the assignment's notebook (the course's language for its page)."""
    import nbformat

    from course_lib.lesson.language import DEFAULT_LANGUAGE, notebook_language

    source = step_folder(course_dir, "source", assignment=assignment)
    for notebook in sorted(source.glob("*.ipynb")):
        try:
            return notebook_language(nbformat.read(notebook, as_version=4))
        except (OSError, ValueError):
            continue
    return DEFAULT_LANGUAGE


def publish(course_dir: Path, assignment: str = ASSIGNMENT,
            language: str | None = None) -> Path:
    """Write the assignment's page into :data:`PUBLISHED` in the course folder (where the
    classroom server's service reads it), replacing the previous one whole."""
    course_dir = Path(course_dir)
    language = language if language in LANGUAGES else assignment_language(course_dir,
                                                                          assignment)
    folder = course_dir / PUBLISHED
    folder.mkdir(exist_ok=True)
    path = folder / f"{assignment}.html"
    partial = folder / f".{assignment}.html.new"
    partial.write_text(page(build_board(course_dir, assignment), language), encoding="utf-8")
    partial.replace(path)
    return path


def free_loopback_port() -> int:
    """A port of the loopback address that nothing listens on now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def hub_service_config(teacher: str, python: str, course_dir: str, port: int) -> str:
    """JupyterHub's settings for the leaderboard service (``course hub`` writes them): run as
    the teacher's account on ``port`` of the loopback address, open to every user who is
    logged in (the ``user`` role gets access to it), and to nobody else."""
    service = {"name": SERVICE, "url": f"http://127.0.0.1:{port}", "user": teacher,
               "command": [python, "-m", "course_lib.teacher.leaderboard_service",
                           str(Path(course_dir) / PUBLISHED)],
               "cwd": course_dir, "oauth_no_confirm": True, "display": True}
    role = {"name": "user", "scopes": ["self", f"access:services!service={SERVICE}"]}
    return ("# The class's leaderboard (course leaderboard), for everyone logged in.\n"
            f"c.JupyterHub.services = [{service!r}]\n"
            f"c.JupyterHub.load_roles = [{role!r}]\n")
