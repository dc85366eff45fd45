"""nbgrader's collect from the exchange, leaving out submissions under an unsafe student id.

nbgrader keeps each handed-in assignment in the exchange's ``inbound/`` folder as
``<student>+<assignment>+<time>+<random>`` and takes the student id from that name. Every
account may write into ``inbound/``, under any name: ``*+mnist_cnn+...`` would become
``submitted/*/``, which ``nbgrader autograde --student *`` reads as the whole class.
:class:`CheckedCollect` is nbgrader's own collector with one change: a submission whose
student id :func:`~course_lib.teacher.student_ids.check_student_id` refuses stays in the
exchange, with a warning that says why, and the others are collected. The course's
``nbgrader_config.py`` makes it nbgrader's collector (Formgrader's *Collect* too), and
``course collect`` names it on the command line as well.
"""

from __future__ import annotations

from nbgrader.exchange.default.collect import ExchangeCollect

from course_lib.teacher.student_ids import check_student_id

REFUSED = "Not collecting"  # begins each warning about a refused submission
COLLECTOR = f"{__name__}.CheckedCollect"  # for nbgrader's ExchangeFactory.collect


class CheckedCollect(ExchangeCollect):
    """nbgrader's collector, refusing submissions whose student id is not a safe one."""

    def init_src(self):
        """Find the submissions to collect, as nbgrader does, then drop the unsafe ones."""
        super().init_src()
        kept = []
        for record in self.src_records:
            try:
                check_student_id(record["username"])
            except ValueError as error:
                self.log.warning("%s %s from the exchange: %s", REFUSED, record["filename"],
                                 error)
                continue
            kept.append(record)
        self.src_records = kept
