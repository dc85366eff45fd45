"""The score table of ``course summary``: per student and per graded cell, from the gradebook."""

from __future__ import annotations

from pathlib import Path

from course_lib.teacher.course import ASSIGNMENT, CourseError, gradebook_url, open_gradebook
from course_lib.teacher.records import graded_without_sandbox
from course_lib.teacher.returns import CellGrade, results_in


def score_table(course_dir: Path, assignment: str = ASSIGNMENT) -> tuple[list[str], list[list]]:
    """Scores per student and per graded cell, from the gradebook: (header, rows)."""
    from nbgrader.api import MissingEntry

    url = gradebook_url(course_dir)
    database = Path(url.removeprefix("sqlite:///"))
    if url.startswith("sqlite:///") and not database.is_file():
        raise CourseError(f"There is no gradebook in {database.parent} yet: run "
                          "`course generate` and `course autograde` first.")
    with open_gradebook(url) as book:
        try:
            cells = [cell.name for notebook in book.find_assignment(assignment).notebooks
                     for cell in notebook.grade_cells]
        except MissingEntry as error:
            raise CourseError(f"The gradebook has no assignment {assignment}: run "
                              "`course generate` first.") from error
        # "test_architecture" reads as "architecture" in a table that is all tests.
        header = ["student", *(name.removeprefix("test_") for name in cells), "auto",
                  "manual to grade", "total", "sandbox"]
        graded = results_in(book, assignment)
    rows = []
    for student in sorted(graded):
        result = graded[student]
        row = [student]
        row += [_points(result.cells.get(name)) for name in cells]
        row.append(f"{result.auto:g}/{result.auto_max:g}")
        row.append(f"{result.manual_to_grade_max:g} points" if result.manual_to_grade else "-")
        row.append(f"{result.total:g}/{result.max_score:g}")
        row.append("NONE" if graded_without_sandbox(course_dir, student, assignment) else "yes")
        rows.append(row)
    return header, rows


def _points(grade: CellGrade | None) -> str:
    if grade is None:
        return "?"
    if grade.to_grade:
        return "to grade"
    return f"{grade.score:g}/{grade.max_score:g}"


def format_table(header: list[str], rows: list[list]) -> str:
    """Lay out a table in fixed-width columns for the terminal."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


