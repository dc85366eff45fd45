"""nbgrader's repairs of a submission, made to work for honest students.

A student who deletes a test cell gets it back (``add_missing_cells``). nbgrader puts it
right after the previous answer or test cell, which can be before the lesson cells that
compute what it checks (the test of the network's accuracy would come before the cell
that evaluates the network). :class:`RestoreDeletedCells` puts it back as late as
possible instead: just before the next answer or test cell of the lesson that the
submission still has, so everything the test reads has been computed.

A cell's role comes from the gradebook, never from the submission: nbgrader itself puts
back a graded cell's source, type and points, but not whether it is a test, an answer or
locked, and a cell the gradebook does not know keeps whatever role its metadata claims.
A student who turned a test cell into an answer cell would have it run in the notebook's
own kernel, hidden tests and all, and one who edited a flag would stop nbgrader
("Inconsistent checksums"). :class:`RestoreDeletedCells` gives every known cell its
gradebook role and makes an unknown one an ordinary cell.
"""

from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import DeduplicateIds, NbGraderPreprocessor, OverwriteCells


class ForgetRolesWithoutId(NbGraderPreprocessor):
    """A cell whose grading metadata has no proper grade id is an ordinary cell.

    Runs first: nbgrader's own steps expect a grade id wherever a cell claims a role, and
    one submission's made-up cell would otherwise stop its grading.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        """Drop the grading metadata of ``cell`` unless it names a grade id."""
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is not None and not (isinstance(meta, dict) and isinstance(
                meta.get("grade_id"), str) and meta["grade_id"]):
            self.log.warning("A cell claims a grading role without a grade id: it runs as "
                             "an ordinary cell")
            del cell.metadata["nbgrader"]
        return cell, resources


class DropDuplicateIds(DeduplicateIds):
    """nbgrader's DeduplicateIds, leaving each copy of a graded cell an ordinary cell.

    nbgrader keeps the last cell of each grade id and empties the grading metadata of the
    others, which its own restoring of missing cells then cannot read: a notebook with a
    copied test cell was not graded at all. Here the copies lose their grading metadata
    whole, so one verdict is given per grade id however many copies there are.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        """Keep the first cell of a grade id met (the last in the notebook); make every
        other one ordinary."""
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.get("metadata", {}).get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
        return cell, resources


class RestoreDeletedCells(OverwriteCells):
    """OverwriteCells that re-inserts each missing grade cell before its successor, and
    takes every cell's role (test, answer, locked) from the gradebook."""

    def preprocess(self, nb, resources):
        """Repair the submission ``nb`` against the gradebook."""
        self._roles = None
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        """Give a graded cell its role in the gradebook; make an unknown one ordinary."""
        grade_id = _grade_id(cell)
        if grade_id is not None:
            roles = self._gradebook_roles()
            if grade_id not in roles:
                self.log.warning("Cell %s is not in the gradebook: it runs as an ordinary "
                                 "cell and is not graded", grade_id)
                del cell.metadata["nbgrader"]
                return cell, resources
            meta = cell.metadata.nbgrader
            for flag, value in roles[grade_id].items():
                if meta.get(flag) != value and not (value is False and not meta.get(flag)):
                    self.report_change(grade_id, flag, value, meta.get(flag))
                    meta[flag] = value
        return super().preprocess_cell(cell, resources, cell_index)

    def _gradebook_roles(self) -> dict[str, dict]:
        """Each source cell's flags (and points, where graded) as the gradebook has them."""
        if self._roles is None:
            source = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
            points = {cell.name: float(cell.max_score) for cell in source.grade_cells}
            answers = {cell.name for cell in source.solution_cells}
            tasks = {cell.name: float(cell.max_score) for cell in source.task_cells}
            self._roles = {}
            for cell in source.source_cells:
                role = {"grade": cell.name in points, "solution": cell.name in answers,
                        "task": cell.name in tasks, "locked": bool(cell.locked)}
                if cell.name in points or cell.name in tasks:
                    role["points"] = points.get(cell.name, tasks.get(cell.name))
                self._roles[cell.name] = role
        return self._roles

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
