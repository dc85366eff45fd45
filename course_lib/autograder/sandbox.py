"""The grading sandbox: what a student's kernel, and the checking process, may reach.

nbgrader runs a student's code with the teacher's rights. On Linux with bubblewrap
(``bwrap``, Debian/Ubuntu package ``bubblewrap``) the course runs it in a sandbox built
from an **allow-list**:

* read-only: the system's programs and libraries (``/usr``), the Python environment,
  the ``course_lib`` package and the MNIST file the grader uses, nothing else of the
  computer: not the course folder, not the gradebook, not other students, not any home;
* read-write: a memory-backed working folder holding a fresh copy of the submission, and
  a private ``/tmp``; both vanish with the sandbox;
* its own process, network (no network at all), IPC and host-name namespaces;
* environment variables from an allow-list;
* the limits of :mod:`course_lib.autograder.limits`.

The kernel talks to nbgrader over Unix sockets in a private folder (``transport=ipc``),
the one channel that crosses the network namespace.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from course_lib.lesson.constants import OFFLINE_VARIABLE, PATH_VARIABLE, QUIET_TENSORFLOW

WORKDIR = "/submission"  # the kernel's working folder inside the sandbox
HANDED_IN = "/handed-in"  # the submission, read-only, copied into WORKDIR at start
SANDBOX_TMP = "/tmp"
DATA_MOUNT = "/course-data"  # where the grader's MNIST file appears inside


def sandbox_available() -> bool:
    """True where bubblewrap really runs here (tried once, not just looked up)."""
    return _trial_run() is None


def sandbox_problem() -> str | None:
    """Why the sandbox cannot run here, in words; None if it can."""
    return _trial_run()


@functools.lru_cache(maxsize=1)
def _trial_run() -> str | None:
    if not sys.platform.startswith("linux"):
        return f"the grading sandbox needs Linux (this is {sys.platform})"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt install bubblewrap)"
    try:
        done = subprocess.run([*bwrap_arguments(), "--", sys.executable, "-c", "pass"],
                              capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not start: {error}"
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return (f"bubblewrap is installed but cannot make a sandbox here ({reason}); "
                "containers often forbid user namespaces")
    return None


def course_lib_conflict(grading_copy: Path | None = None) -> str | None:
    """Why the sandbox would run another ``course_lib`` than the grader's; None if it won't.

    The student's kernel and the checker are new Python processes of this environment, in
    which only the installed ``course_lib`` is visible. ``grading_copy`` is the copy the
    grading code runs (by default this process's): nbgrader, started in a course folder
    that holds a copy of its own, imports that one. Two copies would judge with different
    code, and the kernel would not even find its copy in the sandbox.
    """
    import course_lib

    here = Path(grading_copy or Path(course_lib.__file__).parent).resolve()
    there = _installed_course_lib()
    if there == here:
        return None
    if there is None:
        return (f"grading runs the course_lib in {here}, but a new Python process of this "
                f"environment ({sys.prefix}) cannot import course_lib at all. Install the "
                "course into the environment you grade with: pip install -e COURSE_FOLDER")
    return (f"there are two copies of course_lib: grading runs {here}, but the student's "
            f"kernel and the checker would import {there} (the one installed in "
            f"{sys.prefix}). Keep one: delete {here} if it was copied along with the course "
            f"folder, or install that copy instead (pip install -e {here.parent}, when that "
            "folder holds the course's pyproject.toml)")


@functools.lru_cache(maxsize=1)
def _installed_course_lib() -> Path | None:
    """The course_lib folder a fresh, isolated Python of this environment imports."""
    import tempfile

    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c",
             "import os, course_lib; print(os.path.dirname(os.path.realpath("
             "course_lib.__file__)))"],
            capture_output=True, text=True, timeout=120, check=False,
            cwd=tempfile.gettempdir())
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = done.stdout.strip()
    return Path(found).resolve() if done.returncode == 0 and found else None


def grading_data_path() -> Path | None:
    """The MNIST file or folder the grader uses (its own settings), or None for the sample."""
    from course_lib.lesson.data import keras_cache_file

    configured = os.environ.get(PATH_VARIABLE)
    if configured:
        return Path(configured).resolve()
    cache = keras_cache_file()
    return cache.resolve() if cache.is_file() else None


def _read_only_system() -> list[str]:
    """bwrap options for the programs, libraries and Python that every process needs."""
    options = []
    for top in ("/usr", "/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf",
                "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd", "/etc/group",
                "/etc/nsswitch.conf", "/etc/fonts"):
        if os.path.exists(top):
            options += ["--ro-bind", top, top]
    for link in ("/bin", "/lib", "/lib64", "/sbin"):
        if os.path.islink(link):
            options += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            options += ["--ro-bind", link, link]
    return options


def _python_paths() -> list[str]:
    """The Python installation, the environment and the folder holding course_lib."""
    import course_lib

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)),
             sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
             os.path.dirname(os.path.realpath(course_lib.__file__))}
    # A parent already bound makes its children redundant (and bwrap binds in order).
    ordered = sorted({os.path.realpath(p) for p in paths} | {os.path.abspath(p) for p in paths})
    return [p for p in ordered if os.path.exists(p)]


def allowed_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The only environment variables a sandboxed process gets."""
    environment = {
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin",
                                 "/usr/bin", "/bin"]),
        "HOME": f"{SANDBOX_TMP}/home",
        "TMPDIR": SANDBOX_TMP,
        "LANG": "C.UTF-8",
        "IPYTHONDIR": f"{SANDBOX_TMP}/ipython",
        "MPLCONFIGDIR": f"{SANDBOX_TMP}/matplotlib",
        "KERAS_HOME": f"{SANDBOX_TMP}/keras",
        QUIET_TENSORFLOW[0]: QUIET_TENSORFLOW[1],
        "PYTHONDONTWRITEBYTECODE": "1",
        # Nothing can be downloaded in the sandbox: never try.
        OFFLINE_VARIABLE: "1",
    }
    data = grading_data_path()
    if data is not None:
        environment[PATH_VARIABLE] = f"{DATA_MOUNT}/{data.name}"
    for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
                 "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                 "NBGRADER_EXECUTION"):
        if name in os.environ:
            environment[name] = os.environ[name]
    environment.update(extra or {})
    return environment


@functools.lru_cache(maxsize=1)
def _bwrap_sizes_tmpfs() -> bool:
    """Whether this bubblewrap can cap the size of a tmpfs (``--size``)."""
    try:
        help_text = subprocess.run(["bwrap", "--help"], capture_output=True, text=True,
                                   check=False).stdout
    except OSError:
        return False
    return "--size" in help_text


def _tmpfs(path: str, size_mb: int | None) -> list[str]:
    if size_mb and _bwrap_sizes_tmpfs():
        return ["--size", str(size_mb * 1024 * 1024), "--tmpfs", path]
    # An older bubblewrap: the memory limit (see course_lib.autograder.limits) caps it instead.
    return ["--tmpfs", path]


def bwrap_arguments(*, handed_in: Path | None = None, sockets: Path | None = None,
                    read_only: list[Path] = (), environment: dict[str, str] | None = None,
                    tmp_size_mb: int | None = None) -> list[str]:
    """The bubblewrap command line (without the program to run) for one sandbox.

    ``handed_in``: a submission folder, read-only at ``/handed-in``; ``sockets``: a folder
    shared read-write for the kernel's Unix sockets; ``read_only``: further paths bound
    read-only at the same place (the checker's input); ``tmp_size_mb``: the size of each
    of the two memory-backed folders, ``/tmp`` and the working folder.
    """
    options = ["bwrap", "--die-with-parent", "--new-session",
               "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
               "--unshare-cgroup-try", "--hostname", "grading",
               "--proc", "/proc", "--dev", "/dev",
               *_tmpfs(SANDBOX_TMP, tmp_size_mb), *_tmpfs(WORKDIR, tmp_size_mb),
               *_read_only_system()]
    for path in _python_paths():
        options += ["--ro-bind", path, path]
    data = grading_data_path()
    if data is not None and data.exists():
        options += ["--dir", DATA_MOUNT, "--ro-bind", str(data), f"{DATA_MOUNT}/{data.name}"]
    if handed_in is not None:
        options += ["--ro-bind", str(Path(handed_in).resolve()), HANDED_IN]
    for path in read_only:
        resolved = str(Path(path).resolve())
        options += ["--ro-bind", resolved, resolved]
    if sockets is not None:
        resolved = str(Path(sockets).resolve())
        options += ["--bind", resolved, resolved]
    options += ["--clearenv"]
    for name, value in allowed_environment(environment).items():
        options += ["--setenv", name, value]
    options += ["--chdir", WORKDIR]
    return options


def copy_submission(source: Path, target: Path) -> None:
    """Copy the regular files and folders of a submission; links are left behind.

    A file that does not fit within the grading limits (too large, no space left) is left
    out and said on standard error, which the grading log shows: the notebook still runs,
    and a cell that needs the file fails as it would without it.
    """
    for root, folders, files in os.walk(source, followlinks=False):
        relative = Path(root).relative_to(source)
        for folder in list(folders):
            if os.path.islink(os.path.join(root, folder)):
                folders.remove(folder)
            else:
                (target / relative / folder).mkdir(exist_ok=True)
        for name in files:
            path = os.path.join(root, name)
            if os.path.isfile(path) and not os.path.islink(path):
                try:
                    shutil.copyfile(path, target / relative / name)
                except OSError as error:
                    (target / relative / name).unlink(missing_ok=True)
                    print(f"{relative / name} was left out of the grading copy: "
                          f"{error.strerror or error}. The grading limits are in "
                          "nbgrader_config.py (c.GradeInSandbox.*).", file=sys.stderr)


def main(arguments: list[str]) -> None:
    """Inside the sandbox: copy the handed-in files into the working folder, then run.

    Usage: ``python -m course_lib.autograder.sandbox -- PROGRAM ARGS``.
    """
    if arguments[:1] == ["--"]:
        arguments = arguments[1:]
    if os.path.isdir(HANDED_IN):
        copy_submission(Path(HANDED_IN), Path(WORKDIR))
    for folder in ("home", "ipython", "matplotlib", "keras"):
        os.makedirs(os.path.join(SANDBOX_TMP, folder), exist_ok=True)
    os.execvp(arguments[0], arguments)


if __name__ == "__main__":
    main(sys.argv[1:])
