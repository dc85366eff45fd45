"""Benchmark: how the counted training cost of a recipe compares with its time on a machine.

Not part of the test suite. The tuned network's budget is a count of work
(:mod:`course_lib.lesson.cost`), the same on every machine; a grading machine's time limit
(``tuned_max_seconds``, or ``c.GradeInSandbox.training_budget_seconds``) is only a safety
net. This trains a set of recipes here, as the grader does (seeded, on the grader's data),
and prints for each its cost, its wall-clock and CPU time, and the billions of
multiply-adds per second: the slowest rate, with the budget, tells how long the whole
budget takes on this machine, and so how generous the safety net is. The last row trains
the model solution's network for as many epochs as fit the budget. The table is printed
and written to ``benchmarks/results/training_cost-<data>.md``.

    .venv/bin/python benchmarks/training_cost.py [DATA] [--skip-budget]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

from common import data_name, prepare, write_table


def recipes(layers):
    """(name, layers, batch size, epochs, share of the training data) of each recipe timed:
    the kinds of network students build, and the ones the cost's weights were set on."""
    solution = [layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax")]
    augmented = [layers.RandomRotation(0.05), layers.RandomZoom(0.1),
                 layers.RandomTranslation(0.1, 0.1), *solution]
    return [
        ("model solution", solution, 64, 2, 1.0),
        ("model solution, batch 256", solution, 256, 2, 1.0),
        ("model solution, batch 1", solution, 1, 1, 0.1),
        ("augmentation + model solution", augmented, 64, 2, 1.0),
        ("three Conv2D(64) 'same'", [
            *[layers.Conv2D(64, 3, padding="same", activation="relu") for _ in range(3)],
            layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10, activation="softmax")],
         64, 1, 0.3),
        ("normalisation and noise", [
            layers.Conv2D(64, 3, padding="same"), layers.BatchNormalization(), layers.ReLU(),
            layers.Dropout(0.2), layers.GaussianNoise(0.1), layers.BatchNormalization(),
            layers.GlobalAveragePooling2D(), layers.Dense(10, activation="softmax")],
         64, 1, 1.0),
        ("separable convolutions", [
            layers.Conv2D(32, 3, activation="relu"),
            layers.SeparableConv2D(128, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2), layers.SeparableConv2D(128, 3, activation="relu"),
            layers.GlobalAveragePooling2D(), layers.Dense(10, activation="softmax")],
         64, 1, 1.0),
        ("a wide Dense layer, batch 1", [
            layers.Conv2D(8, 3, activation="relu"), layers.Flatten(),
            layers.Dense(90, activation="relu"), layers.Dense(10, activation="softmax")],
         1, 1, 0.3),
        ("40 BatchNormalization on 1 channel", [
            layers.Conv2D(1, 1), *[layers.BatchNormalization() for _ in range(40)],
            layers.Flatten(), layers.Dense(10, activation="softmax")], 64, 1, 1.0),
        ("6 Conv2D(32) 'same', batch 1", [
            *[layers.Conv2D(32, 3, padding="same", activation="relu") for _ in range(6)],
            layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(10, activation="softmax")],
         1, 1, 0.1),
    ]


def measure(name, network_layers, batch_size, epochs, share, data, profile):
    """Train one recipe as the grader does; its row of the table."""
    import keras

    from course_lib.autograder.checks import GRADING_SEED
    from course_lib.autograder.retrain import train_and_predict
    from course_lib.lesson.cost import training_cost
    from course_lib.lesson.data import one_hot
    from course_lib.lesson.recipe import read_recipe

    network = keras.Sequential([keras.Input((28, 28, 1)), *network_layers])
    network.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    recipe = read_recipe(network)
    count = math.ceil(len(data.x_train) * share)
    cost = training_cost(recipe, epochs, batch_size, count)
    cpu = time.process_time()
    training = train_and_predict(recipe.build(seed=GRADING_SEED), data.x_train[:count],
                                 one_hot(data.y_train[:count]), data.x_test[:10],
                                 epochs=epochs, batch_size=batch_size, seconds=3600)
    cpu = time.process_time() - cpu
    rate = cost.total / 1e9 / training.seconds
    print(f"{name}: {cost.total / 1e9:,.1f} billion in {training.seconds:.1f} s", flush=True)
    return (f"| {name} | {batch_size} | {epochs} x {count:,} | {cost.total / 1e9:,.1f} | "
            f"{training.seconds:.1f} | {cpu:.1f} | {rate:.1f} |"), rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", help="an idx folder or mnist.npz (default: sample)")
    parser.add_argument("--skip-budget", action="store_true",
                        help="leave out the last row (training the whole budget)")
    arguments = parser.parse_args()
    prepare(arguments.data)
    from keras import layers

    from course_lib.autograder.checks import grading_data
    from course_lib.lesson.cost import training_cost
    from course_lib.lesson.recipe import read_recipe

    data = grading_data()
    profile = data.profile
    rows, rates = [], []
    plan = recipes(layers)
    for entry in plan:
        row, rate = measure(*entry, data, profile)
        rows.append(row)
        rates.append(rate)
    if not arguments.skip_budget:
        import keras

        solution = plan[0][1]
        network = keras.Sequential([keras.Input((28, 28, 1)), *solution])
        network.compile(optimizer="adam", loss="categorical_crossentropy")
        per_epoch = training_cost(read_recipe(network), 1, 64, len(data.x_train)).total
        epochs = int(profile.tuned_max_cost // per_epoch)
        row, _ = measure(f"model solution, {epochs} epochs: the budget", solution, 64,
                         epochs, 1.0, data, profile)
        rows.append(row)
    slowest = min(rates)
    text = "\n".join([
        f"# The counted training cost against time: {data_name(arguments.data, data.source)}",
        "",
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"budget {profile.tuned_max_cost / 1e9:,.0f} billion multiply-adds, safety net "
        f"{profile.tuned_max_seconds:.0f} s.",
        "",
        "| recipe | batch | epochs x images | billion multiply-adds | wall s | CPU s | "
        "billion per wall s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"At the slowest rate above ({slowest:.1f} billion per second) the whole budget takes "
        f"{profile.tuned_max_cost / 1e9 / slowest:.0f} s here: "
        f"{profile.tuned_max_seconds / (profile.tuned_max_cost / 1e9 / slowest):.1f} times "
        "within the safety net.",
        "",
    ])
    write_table("training_cost", profile.name, text)


if __name__ == "__main__":
    main()
