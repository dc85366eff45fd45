"""The programs the classroom server installs and runs: the students' and the teacher's
Python environments, JupyterHub's proxy, and the commands that install them.

* the **students' environment** (:func:`ensure_student_environment`, in
  ``STATE_DIR/student-env``): JupyterLab, nbgrader showing only the Assignments tab, and the
  students' package of ``course_lib`` (``course package``), never the course;
* the **teacher's environment** (:func:`ensure_teacher_environment`, in
  ``STATE_DIR/teacher-env``): the course itself, with JupyterLab and nbgrader's Formgrader;
* **configurable-http-proxy**, JupyterHub's proxy, from npm (:func:`ensure_proxy`).

The environments are installed by uv (:func:`install_packages`), which does pip's job in a
third of the time: both hold TensorFlow, and pip took about a minute for each.

Each environment carries a stamp of what it was installed from; one whose stamp still
matches is left alone, so that ``course hub`` run again takes seconds.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

from course_lib.teacher.course import CourseError
from course_lib.teacher.hub_config import SYSTEM_PATH

STUDENT_ENV, TEACHER_ENV = "student-env", "teacher-env"  # folders in the state folder
STAMP = ".course-stamp"  # in an environment: what it was installed from
PROXY_PACKAGE = "configurable-http-proxy@4"


def ensure_student_environment(state: Path, report) -> Path:
    """The students' Python environment: the students' package and what runs it, with
    nbgrader's Assignments tab and nothing else of nbgrader's. Returns its Python."""
    from course_lib.teacher.package import build_student_wheel

    wheel = build_student_wheel(state / "dist")
    environment = state / STUDENT_ENV
    stamp = f"{wheel.name} {_digest(wheel)}"
    if _is_current(environment, stamp):
        return environment / "bin" / "python"
    report("Installing the students' environment (JupyterLab, nbgrader's Assignments tab, "
           "the students' package): a minute or two the first time ...")
    python = _new_environment(environment)
    install_packages(python, "--reinstall", "--no-deps", str(wheel))
    install_packages(python, str(wheel), *_hub_side_packages())
    # Students see nbgrader's Assignments tab only: no Formgrader, no Create Assignment.
    # One command for each kind of extension: every start of `jupyter` takes seconds.
    jupyter = environment / "bin" / "jupyter"
    run([str(jupyter), "server", "extension", "disable", "--sys-prefix",
         *[f"nbgrader.server_extensions.{extension}"
           for extension in ("formgrader", "course_list")]])
    run([str(jupyter), "labextension", "disable", "--level=sys_prefix",
         *[f"@jupyter/nbgrader:{plugin}"
           for plugin in ("formgrader", "create-assignment", "course-list")]])
    (environment / STAMP).write_text(stamp)
    return python


def ensure_teacher_environment(state: Path, report) -> Path:
    """The teacher's Python environment: this course, installed from its project folder
    (a copy, so that the teacher's account needs no access to that folder). Returns its
    Python."""
    import course_lib

    project = Path(course_lib.__file__).resolve().parents[1]
    if not (project / "pyproject.toml").is_file():
        raise CourseError(f"The teacher's environment is installed from the course's project "
                          f"folder, but {project} has no pyproject.toml: run `course hub` "
                          "from the course's project folder (installed with pip install -e).")
    environment = state / TEACHER_ENV
    code = sorted([project / "pyproject.toml", *(project / "course_lib").rglob("*.py"),
                   *(project / "course_lib").rglob("*.mo")])
    stamp = _digest_all(code)
    if _is_current(environment, stamp):
        return environment / "bin" / "python"
    report("Installing the teacher's environment (the course with JupyterLab and "
           "nbgrader): a minute or two the first time ...")
    python = _new_environment(environment)
    install_packages(python, f"{project}[hub]")
    install_packages(python, "--reinstall", "--no-deps", str(project))
    (environment / STAMP).write_text(stamp)
    return python


def _digest_all(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _is_current(environment: Path, stamp: str) -> bool:
    marker = environment / STAMP
    return (environment / "bin" / "python").exists() and marker.is_file() \
        and marker.read_text() == stamp


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _hub_side_packages() -> list[str]:
    """The versions of what a user's server runs, the same as the hub's own."""
    from importlib import metadata

    return [f"{name}=={metadata.version(name)}" for name in ("jupyterhub", "nbgrader",
                                                               "jupyterlab")]


def _new_environment(folder: Path) -> Path:
    """A fresh virtual environment in ``folder``, of a Python every account may run."""
    if not (folder / "bin" / "python").exists():
        run([str(_python_for_everyone()), "-m", "venv", str(folder)])
    folder.chmod(0o755)
    return folder / "bin" / "python"


def _python_for_everyone() -> Path:
    """This Python if every account may run it, else the system's of the same version."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [Path(sys.base_prefix) / "bin" / version, Path("/usr/bin") / version,
                  Path("/usr/local/bin") / version]
    for candidate in candidates:
        if candidate.exists() and _everyone_may_run(candidate.resolve()):
            return candidate
    raise CourseError(
        f"The users' servers need a Python {sys.version_info.major}."
        f"{sys.version_info.minor} that every account may run, but this one "
        f"({Path(sys.base_prefix)}) is in a folder others cannot enter. Install the "
        f"system's (Debian: apt install {version} {version}-venv).")


def _everyone_may_run(path: Path) -> bool:
    """Whether other accounts can reach and execute ``path`` (by its permission bits)."""
    if not path.stat().st_mode & 0o001:
        return False
    return all(parent.stat().st_mode & 0o001 for parent in path.parents)


def ensure_proxy(state: Path, report) -> Path:
    """configurable-http-proxy, JupyterHub's proxy, from the npm registry."""
    proxy = state / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
    if not proxy.exists():
        if shutil.which("npm") is None:
            raise CourseError("JupyterHub's proxy comes from npm, which is missing: install "
                              "Node.js (Debian: apt install nodejs npm).")
        report(f"Installing {PROXY_PACKAGE} from npm ...")
        run(["npm", "install", "--silent", "--prefix", str(state / "proxy"), PROXY_PACKAGE])
    return proxy


def install_packages(python: Path, *arguments: str) -> None:
    """Install the ``arguments`` (packages and options, as ``uv pip install`` takes them) into
    the environment of ``python``, quietly, with uv.

    The files are copied out of uv's cache, not linked to it, so that an environment the
    accounts run owes nothing to root's home; and compiled to bytecode, as pip does, since
    the accounts cannot write it beside root's files and would compile TensorFlow anew at
    every start. uv reads its own settings, not pip's: a school whose packages come from
    its own mirror gives it to ``course hub`` as ``UV_DEFAULT_INDEX``."""
    try:
        from uv import find_uv_bin
    except ImportError:
        raise CourseError("`course hub` installs the classroom's environments with uv, which "
                          "comes with the course's hub extra: run `pip install -e '.[hub]'` "
                          "in the course folder, then `course hub` again.") from None
    run([find_uv_bin(), "pip", "install", "--quiet", "--python", str(python),
         "--link-mode=copy", "--compile-bytecode", *arguments])


def run(command: list[str], cwd: Path | None = None) -> None:
    """Run ``command`` (the system's programs found too); on failure raise its last lines."""
    environment = {**os.environ, "PATH": f"{os.environ.get('PATH', '')}:{SYSTEM_PATH}"}
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False,
                          env=environment)
    if done.returncode != 0:
        raise CourseError(f"`{' '.join(command)}` failed:\n"
                          + "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:]))


def as_user(user: str, command: list[str], cwd: Path | None = None) -> None:
    """Run ``command`` as ``user`` (nbgrader's files then belong to them), with the
    programs of the environment ``command[0]`` is in."""
    environment = {"PATH": f"{Path(command[0]).parent}:{SYSTEM_PATH}",
                   "HOME": pwd.getpwnam(user).pw_dir, "TF_CPP_MIN_LOG_LEVEL": "2",
                   "LANG": "C.UTF-8"}
    runuser = shutil.which("runuser", path=SYSTEM_PATH) or "runuser"
    done = subprocess.run([runuser, "-u", user, "--", *command], cwd=cwd, env=environment,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CourseError(f"`{' '.join(command)}` as {user} failed:\n"
                          + "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:]))
