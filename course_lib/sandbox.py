"""Run each submission's kernel in a sandbox, so one hostile notebook cannot touch the rest.

nbgrader runs a student's code with the teacher's rights: a notebook could delete the
gradebook or rewrite other students' grades. On Linux with bubblewrap (``bwrap``,
Debian/Ubuntu package ``bubblewrap``) the course starts the grading kernel inside a
sandbox instead:

* the whole file system is read-only, except the folder of the notebook being graded
  (``autograded/<student>/<assignment>``) and a private, empty temporary folder
  (``TMPDIR``);
* the kernel gets its own process namespace: it cannot see or stop other processes, and
  everything it started dies with it.

:func:`configure` is called from ``nbgrader_config.py``; it installs the kernel
``mnist-cnn-sandbox`` into this Python environment and tells nbgrader to grade with it.
Where bubblewrap is missing, grading runs unsandboxed and :func:`sandbox_available` says so.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

KERNEL_NAME = "mnist-cnn-sandbox"
# /tmp itself stays as it is (read-only): the course or its environment may live there.
PRIVATE_TMP = "/dev/shm"


def sandbox_available() -> bool:
    """True where bubblewrap can run the grading kernel (Linux with ``bwrap`` installed)."""
    return sys.platform.startswith("linux") and shutil.which("bwrap") is not None


def kernel_spec_folder() -> Path:
    """Where this environment keeps the sandbox kernel's ``kernel.json``."""
    return Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME


def install_kernel_spec() -> Path:
    """Write the sandbox kernel's spec into this environment (only when it changed)."""
    spec = {
        "argv": [sys.executable, "-m", "course_lib.sandbox", "-f", "{connection_file}"],
        "display_name": "Python 3 (grading sandbox)",
        "language": "python",
        # Interrupt through Jupyter's control channel: a SIGINT to the process group would
        # also reach bubblewrap, which would end the sandbox instead of the running cell.
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }
    folder = kernel_spec_folder()
    path = folder / "kernel.json"
    text = json.dumps(spec, indent=1)
    if not path.is_file() or path.read_text() != text:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path


def configure(config) -> bool:
    """Make nbgrader grade in the sandbox when it is available; return whether it is."""
    if not sandbox_available():
        return False
    install_kernel_spec()
    config.Execute.kernel_name = KERNEL_NAME
    return True


def data_settings() -> list[str]:
    """bwrap options that point the sandboxed kernel at the data this computer has.

    Inside the sandbox nothing can be downloaded and kept, so the kernel never tries: it
    reads the full MNIST where the teacher put it, or uses the embedded sample.
    """
    from course_lib.data import OFFLINE_VARIABLE, PATH_VARIABLE, keras_cache_file

    options = ["--setenv", OFFLINE_VARIABLE, "1",
               # keras wants a writable home for its settings; the data is found below.
               "--setenv", "KERAS_HOME", f"{PRIVATE_TMP}/keras"]
    if not os.environ.get(PATH_VARIABLE) and keras_cache_file().is_file():
        options += ["--setenv", PATH_VARIABLE, str(keras_cache_file().resolve())]
    return options


def sandbox_command(kernel_arguments: list[str], workdir: str | Path) -> list[str]:
    """The bubblewrap command that runs ``python -m ipykernel_launcher ARGS`` in ``workdir``."""
    workdir = str(Path(workdir).resolve())
    return [*_bwrap(workdir), *data_settings(),
            sys.executable, "-m", "ipykernel_launcher", *kernel_arguments]


def _bwrap(workdir: str) -> list[str]:
    return [
        "bwrap",
        # Everything stays readable (Python, course_lib, the data), nothing writable ...
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        # ... except a private, empty temporary folder and the notebook's own folder.
        "--tmpfs", PRIVATE_TMP,
        "--bind", workdir, workdir,
        "--chdir", workdir,
        "--setenv", "TMPDIR", PRIVATE_TMP,
        "--setenv", "IPYTHONDIR", f"{PRIVATE_TMP}/ipython",
        "--setenv", "MPLCONFIGDIR", f"{PRIVATE_TMP}/matplotlib",
        "--unshare-pid",
        "--die-with-parent",
        # ipykernel exits when its parent's pid changes, and in the new process namespace
        # it does; --die-with-parent does that job instead.
        "--unsetenv", "JPY_PARENT_PID",
    ]


def main(arguments: list[str]) -> None:
    """Replace this process by the sandboxed kernel (what the kernel spec runs)."""
    command = sandbox_command(arguments, os.getcwd())
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
