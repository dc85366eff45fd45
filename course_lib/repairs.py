"""nbgrader's repairs of a submission, made to work for honest students.

A student who deletes a test cell gets it back (``add_missing_cells``). nbgrader puts it
right after the previous answer or test cell, which can be before the lesson cells that
compute what it checks (the test of the network's accuracy would come before the cell
that evaluates the network). :class:`RestoreDeletedCells` puts it back as late as
possible instead: just before the next answer or test cell of the lesson that the
submission still has, so everything the test reads has been computed.
"""

from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import OverwriteCells


class RestoreDeletedCells(OverwriteCells):
    """OverwriteCells that re-inserts each missing grade cell before its successor."""

    def add_missing_grade_cells(self, nb, resources):
        """Insert every grade cell missing from ``nb`` before the next cell it still has."""
        source = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        order = [cell.name for cell in source.source_cells]
        solution_ids = {cell.name for cell in source.solution_cells}
        present = {cell.metadata.nbgrader["grade_id"] for cell in nb.cells
                   if utils.is_grade(cell) or utils.is_solution(cell)}
        for grade_cell in source.grade_cells:
            if grade_cell.name in present:
                continue
            self.log.warning("Missing grade cell %s encountered, adding it back",
                             grade_cell.name)
            source_cell = source.source_cells[order.index(grade_cell.name)]
            new_cell = self.missing_cell_transform(source_cell, grade_cell.max_score,
                                                   is_solution=grade_cell.name in solution_ids)
            later = order[order.index(grade_cell.name) + 1:]
            position = next((i for i, cell in enumerate(nb.cells)
                             if _grade_id(cell) in later and _grade_id(cell) in present),
                            len(nb.cells))
            nb.cells.insert(position, new_cell)
            present.add(grade_cell.name)
        return nb, resources


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
