"""Run the students' library from an unpacked wheel and report everything answer-shaped.

Used as a script, in a clean process: ``python -I wheel_probe.py WHEEL_FOLDER REPORT.json``.
It imports ``course_lib.lesson`` from ``WHEEL_FOLDER`` only (the course installed for
development is hidden), with the network blocked and a scratch home, then:

* reads every public constant of every module of the package (classes' too);
* calls every public function and class that needs no argument, catching what it prints,
  shows (IPython's ``display``, pyplot's figures), returns and raises;
* walks those values (containers, dataclasses, the package's own objects, figures).

It never learns the answer it is searched for: it writes every pair of small whole numbers,
every pair of rows of ten scores, every mapping to small whole numbers and every text it
found, with where it found them, and the test decides which of them give an answer away.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import io
import json
import os
import pkgutil
import socket
import sys
from pathlib import Path

SHOWN: list = []  # what the package passed to IPython's display since the last call
LONGEST_WALKED = 100  # a longer sequence is data (all the training labels), not an answer
DEEPEST = 5


def block_network() -> None:
    """Every connection fails at once, as on a computer without internet."""

    def refuse(*_args, **_kwargs):
        raise OSError("no network while the students' package is probed")

    socket.socket.connect = refuse
    socket.create_connection = refuse


def catch_displays() -> None:
    """Keep what the package would show in a notebook, to search it like a return value."""
    import IPython.core.display_functions
    import IPython.display

    def keep(*objects, **_options):
        SHOWN.extend(objects)

    IPython.display.display = IPython.core.display_functions.display = keep


def use_only_the_wheel(folder: str) -> None:
    """Import course_lib from ``folder`` and from nowhere else."""
    sys.path.insert(0, folder)
    sys.meta_path[:] = [finder for finder in sys.meta_path
                        if "__editable__" not in getattr(finder, "__module__", "")]


class Finder:
    """Collects the answer-shaped values found in the package, with where they were."""

    def __init__(self):
        self.found: list[dict] = []
        self.called: list[str] = []
        # Kept alive, so that no new object can take the id of one already walked.
        self._seen: dict[int, object] = {}

    def note(self, kind: str, where: str, value) -> None:
        self.found.append({"kind": kind, "where": where, "value": value})

    def walk(self, value, where: str, depth: int = 0) -> None:
        """Note ``value`` and whatever it holds that could carry an answer."""
        import numpy as np

        if depth > DEEPEST or id(value) in self._seen:
            return
        if isinstance(value, str | bytes):
            text = value.decode(errors="replace") if isinstance(value, bytes) else value
            self.note("text", where, text)
            return
        if isinstance(value, bool | int | float | complex | type(None)):
            return
        self._seen[id(value)] = value
        if isinstance(value, np.ndarray):
            self._array(value, where)
        elif isinstance(value, dict):
            self._mapping(value, where, depth)
        elif isinstance(value, list | tuple):
            self._sequence(value, where, depth)
        elif _is_figure(value):
            self.note("text", where, " | ".join(_figure_texts(value)))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for field in dataclasses.fields(value):
                self.walk(getattr(value, field.name, None), f"{where}.{field.name}", depth + 1)
        elif type(value).__module__.startswith("course_lib"):
            self._own_object(value, where, depth)

    def _array(self, array, where: str) -> None:
        import numpy as np

        if array.dtype.kind in "iub" and array.ndim == 1 and array.size == 2:
            self.note("pair", where, [int(v) for v in array])
        elif array.dtype.kind == "f" and array.ndim == 1 and array.size == 2 and \
                np.all(array == np.round(array)):
            self.note("pair", where, [int(v) for v in array])
        elif array.dtype.kind in "iuf" and array.shape[:1] == (2,) and array.ndim == 2:
            # Two rows of scores, one per example: one-hot labels or predictions.
            self.note("rows", where, [int(v) for v in array.argmax(axis=1)])
        elif array.dtype.kind in "US" and array.size <= LONGEST_WALKED:
            for index, text in enumerate(array.ravel().tolist()):
                self.walk(text, f"{where}[{index}]")

    def _mapping(self, mapping: dict, where: str, depth: int) -> None:
        small = {str(key): whole for key, value in mapping.items()
                 if (whole := _small_whole_number(value)) is not None}
        if small:
            self.note("mapping", where, small)
        for key, value in list(mapping.items())[:LONGEST_WALKED]:
            self.walk(key, f"{where} key", depth + 1)
            self.walk(value, f"{where}[{key!r}]", depth + 1)

    def _sequence(self, items, where: str, depth: int) -> None:
        numbers = [_small_whole_number(item) for item in items]
        if len(items) == 2 and None not in numbers:
            self.note("pair", where, numbers)
        if len(items) <= LONGEST_WALKED:
            for index, item in enumerate(items):
                self.walk(item, f"{where}[{index}]", depth + 1)

    def _own_object(self, value, where: str, depth: int) -> None:
        self.note("text", f"str({where})", _safely(str, value))
        for name, item in list(vars(value).items()) if hasattr(value, "__dict__") else []:
            self.walk(item, f"{where}.{name}", depth + 1)
        for name, member in inspect.getmembers(type(value)):
            if isinstance(member, property) and not name.startswith("_"):
                self.walk(_safely(getattr, value, name), f"{where}.{name}", depth + 1)


def _small_whole_number(value) -> int | None:
    """``value`` as a digit-sized whole number (0-9), if it is one."""
    import numpy as np

    if isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer) or (
            isinstance(value, float | np.floating) and float(value).is_integer()):
        return int(value) if 0 <= value <= 9 else None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) == 1:
        return int(value)
    return None


def _is_figure(value) -> bool:
    try:
        from matplotlib.artist import Artist
    except ImportError:
        return False
    return isinstance(value, Artist)


def _figure_texts(artist) -> list[str]:
    from matplotlib.text import Text

    return [text.get_text() for text in artist.findobj(Text) if text.get_text()]


def _safely(function, *args):
    try:
        return function(*args)
    except Exception as error:  # noqa: BLE001 - a failure is reported as its message
        return f"{type(error).__name__}: {error}"


def needs_no_argument(thing) -> bool:
    """Can ``thing`` be called with no argument at all?"""
    try:
        signature = inspect.signature(thing)
    except (TypeError, ValueError):
        return False
    return all(parameter.default is not parameter.empty
               or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
               for parameter in signature.parameters.values())


def call(thing, where: str, finder: Finder) -> None:
    """Call ``thing`` with no argument; walk what it printed, returned or raised."""
    finder.called.append(where)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            result = thing()
    except BaseException as error:  # noqa: B036 - a check's message may carry an answer too
        result = f"{type(error).__name__}: {error}"
    finder.walk(printed.getvalue(), f"{where} printed")
    finder.walk(result, where)
    for number, shown in enumerate(SHOWN):
        finder.walk(shown, f"{where} shown {number}")
    SHOWN.clear()
    import matplotlib.pyplot as plt

    for number in plt.get_fignums():
        finder.walk(plt.figure(number), f"{where} figure {number}")
    plt.close("all")


def probe(package_name: str) -> tuple[list[str], Finder]:
    """Import every module of ``package_name``; walk its constants; call what needs no
    argument. Returns the modules probed and the finder with what it noted."""
    package = importlib.import_module(package_name)
    finder = Finder()
    modules = [package] + [importlib.import_module(f"{package_name}.{info.name}")
                           for info in pkgutil.iter_modules(package.__path__)]
    for module in modules:
        for name, thing in sorted(vars(module).items()):
            where = f"{module.__name__}.{name}"
            if name.startswith("_") or inspect.ismodule(thing):
                continue
            if not callable(thing):
                finder.walk(thing, where)
                continue
            if getattr(thing, "__module__", None) != module.__name__:
                continue  # imported from elsewhere: probed where it is defined
            if inspect.isclass(thing):
                for attribute, value in vars(thing).items():
                    if not attribute.startswith("_") and not callable(value):
                        finder.walk(value, f"{where}.{attribute}")
            if needs_no_argument(thing):
                call(thing, f"{where}()", finder)
    return [module.__name__ for module in modules], finder


def main(folder: str, report: str) -> None:
    """Probe the wheel unpacked in ``folder``; write what was found to ``report``."""
    scratch = Path(report).parent / "home"
    scratch.mkdir(exist_ok=True)
    os.environ.update(HOME=str(scratch), KERAS_HOME=str(scratch / ".keras"),
                      COURSE_MNIST_OFFLINE="1", MPLBACKEND="Agg")
    os.environ.pop("COURSE_MNIST_PATH", None)
    block_network()
    catch_displays()
    use_only_the_wheel(folder)
    modules, finder = probe("course_lib.lesson")
    import course_lib.lesson

    Path(report).write_text(json.dumps({
        "package_file": course_lib.lesson.__file__,
        "modules": modules,
        "called": finder.called,
        "found": finder.found,
    }, default=repr))


if __name__ == "__main__":
    main(*sys.argv[1:3])
