"""The labels and sentences the lesson's notebook prints with ``tr(...)``, for the catalogue.

The notebook's code is the same in every language (only ``use_language`` differs), so what
it prints goes through :func:`course_lib.lesson.language.tr`. ``make messages`` collects
messages from this package only; listing the notebook's sentences here puts them in the
catalogue, and a test checks that every ``tr("...")`` of the notebook is listed.
"""

from __future__ import annotations

from course_lib.lesson.language import N_

NOTEBOOK_WORDS = (
    N_("Data:"),
    N_("training images:"),
    N_("  test images:"),
    N_("the first ten labels:"),
    N_("training:"),
    N_("  validation:"),
    N_("becomes"),
    N_("loss on the test data: {loss:.4f}"),
    N_("accuracy on the test data: {accuracy:.4f}"),
    N_("Your network classifies {accuracy:.3f} of the test digits correctly; it needs at "
       "least {mark:.2f} on this data. Did it train for all epochs?"),
    N_("train {train:.3f}  test {test:.3f}  gap {gap:.3f}"),
    N_("files:"),
    N_("`own_predictions` should come from model.predict(own_input)."),
    N_("pass mark for the tuned network on this data: {mark:.2f}"),
    N_("training budget: {budget:,.0f} billion multiply-adds"),
    N_("lesson network"),
    N_("tuned network"),
    N_("{name}: {right} of {count} own digits read correctly"),
)
