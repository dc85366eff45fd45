"""The grading sandbox: what a student's kernel, and the checking process, may reach.

nbgrader runs a student's code with the teacher's rights. On Linux with bubblewrap
(``bwrap`` 0.8 or newer, Debian/Ubuntu package ``bubblewrap``) the course runs it in a
sandbox built from an **allow-list**, the same whoever grades (root or not):

* read-only: the system's programs and libraries (``/usr``), the Python environment,
  the ``course_lib`` package and the MNIST file the grader uses, nothing else of the
  computer: not the course folder, not the gradebook, not other students, not any home,
  not even the computer's list of accounts (the sandbox has its own ``/etc/passwd``);
* read-write: a memory-backed working folder holding a fresh copy of the submission, a
  private ``/tmp``, a small ``/dev/shm``; all capped, all gone with the sandbox;
* no rights: its own user namespace with an unprivileged uid inside and every
  capability dropped, no new user namespaces, and the seccomp filter of
  :mod:`course_lib.autograder.seccomp`;
* its own process, network (no network at all), IPC and host-name namespaces;
* environment variables from an allow-list;
* the limits of :mod:`course_lib.autograder.limits`.

The kernel talks to nbgrader over Unix sockets (``transport=ipc``) in a tiny
memory-backed folder inside the sandbox, which the grader reaches from outside through
``/proc/PID/root``: the one channel that crosses the namespaces.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from course_lib.autograder import seccomp
from course_lib.autograder.limits import MB, ControlGroup, Limits, start_function
from course_lib.lesson.constants import OFFLINE_VARIABLE, PATH_VARIABLE, QUIET_TENSORFLOW
from course_lib.lesson.mnist_place import local_mnist

MODULE = "course_lib.autograder.sandbox"  # run inside, before the program (see main)
WORKDIR = "/submission"  # the kernel's working folder inside the sandbox
HANDED_IN = "/handed-in"  # the submission, read-only, copied into WORKDIR at start
SANDBOX_TMP = "/tmp"
SOCKETS = "/run/kernel"  # the kernel's Unix sockets (reached from outside via /proc)
DATA_MOUNT = "/course-data"  # where the grader's MNIST file appears inside
SANDBOX_USER, SANDBOX_UID = "student", 1000  # who the code is, inside
SHM_MB = 64  # /dev/shm: enough for semaphores and small shared arrays
BWRAP_NEEDED = (0, 8)  # --disable-userns


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
    version = _bwrap_version()
    if version < BWRAP_NEEDED:
        found = ".".join(map(str, version)) if version else "an unknown version"
        return (f"the grading sandbox needs bubblewrap {BWRAP_NEEDED[0]}.{BWRAP_NEEDED[1]} "
                f"or newer, and this computer has {found} (Debian 12, Ubuntu 24.04 and "
                "newer have it)")
    if not seccomp.supported():
        return (f"the grading sandbox has no system-call filter for this processor "
                f"({seccomp.machine()}); it knows {', '.join(seccomp.SYSCALLS)}")
    box = Box()
    try:
        done = subprocess.run(box.command([sys.executable, "-c", "pass"]),
                              capture_output=True, text=True, timeout=60, check=False,
                              pass_fds=box.pass_fds, preexec_fn=box.preexec())
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not start: {error}"
    finally:
        box.close()
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return (f"bubblewrap is installed but cannot make a sandbox here ({reason}); "
                "containers often forbid user namespaces")
    return None


def _bwrap_version() -> tuple[int, ...]:
    try:
        text = subprocess.run(["bwrap", "--version"], capture_output=True, text=True,
                              timeout=30, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    try:
        return tuple(int(part) for part in text.split()[-1].split(".")[:2])
    except (ValueError, IndexError):
        return ()


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
    found = local_mnist()
    return found.resolve() if found is not None else None


def _read_only_system() -> list[str]:
    """The programs, libraries and settings files that every process needs."""
    paths = []
    for top in ("/usr", "/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf",
                "/etc/ld.so.conf.d", "/etc/localtime", "/etc/nsswitch.conf", "/etc/fonts"):
        if os.path.exists(top):
            paths.append(top)
    return paths


def _system_links() -> list[str]:
    """bwrap options for /bin, /lib, ...: links where the system has links (merged /usr)."""
    options = []
    for link in ("/bin", "/lib", "/lib64", "/sbin"):
        if os.path.islink(link):
            options += ["--symlink", os.readlink(link), link]
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
        "USER": SANDBOX_USER,
        "LOGNAME": SANDBOX_USER,
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


def _accounts_file(kind: str) -> bytes:
    """/etc/passwd or /etc/group inside: the sandbox's own user, not the computer's list."""
    if kind == "passwd":
        return (f"root:x:0:0::/:/usr/sbin/nologin\n"
                f"{SANDBOX_USER}:x:{SANDBOX_UID}:{SANDBOX_UID}::{SANDBOX_TMP}/home:"
                f"/usr/sbin/nologin\nnobody:x:65534:65534::/:/usr/sbin/nologin\n").encode()
    return (f"root:x:0:\n{SANDBOX_USER}:x:{SANDBOX_UID}:\nnogroup:x:65534:\n").encode()


class Box:
    """One sandbox, ready to start: its bubblewrap command line and what it must be given.

    Pass :attr:`pass_fds` (small data and settings it reads from pipes) and
    :meth:`preexec` to ``subprocess.Popen``, call :meth:`started` once it has started and
    :meth:`close` when it is done.

    Inside, whoever starts it: no capabilities (its own user namespace, an unprivileged
    uid inside, every capability dropped), no new user namespaces, the seccomp filter of
    :mod:`course_lib.autograder.seccomp`, its own process, network, IPC and host-name
    namespaces, capped memory-backed folders (``/tmp``, the working folder, ``/dev/shm``,
    the kernel's sockets) and a read-only ``/dev``.
    """

    def __init__(self, *, limits: Limits | None = None, handed_in: Path | None = None,
                 read_only: list[Path] = (), environment: dict[str, str] | None = None,
                 sockets: bool = False, data_files: dict[str, Path] | None = None):
        self.limits = limits or Limits()
        self._fds: list[int] = []
        self._staging: tempfile.TemporaryDirectory | None = None
        self._info: int | None = None
        options = ["bwrap", "--die-with-parent", "--new-session", "--unshare-user",
                   "--disable-userns", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
                   "--cap-drop", "ALL", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                   "--unshare-uts", "--unshare-cgroup-try", "--hostname", "grading",
                   "--proc", "/proc", "--dev", "/dev",
                   *self._tmpfs("/dev/shm", min(SHM_MB, self.limits.tmp_size_mb)),
                   "--remount-ro", "/dev",
                   *self._tmpfs(SANDBOX_TMP, self.limits.tmp_size_mb),
                   *self._tmpfs(WORKDIR, self.limits.tmp_size_mb), *_system_links()]
        for path in [*_read_only_system(), *_python_paths()]:
            options += self._bind(path, path)
        for kind in ("passwd", "group"):
            options += ["--ro-bind-data", str(self._pipe(_accounts_file(kind))), f"/etc/{kind}"]
        data = grading_data_path()
        if data is not None and data.exists():
            options += ["--dir", DATA_MOUNT, *self._bind(data, f"{DATA_MOUNT}/{data.name}")]
        if handed_in is not None:
            options += self._bind(self._stage(Path(handed_in)), HANDED_IN)
        for path in read_only:
            resolved = str(Path(path).resolve())
            options += self._bind(resolved, resolved)
        for inside, outside in (data_files or {}).items():
            options += ["--ro-bind-data", str(self._pipe(Path(outside).read_bytes())), inside]
        if sockets:
            options += self._tmpfs(SOCKETS, 1)
            reading, writing = os.pipe()
            self._info = reading
            self._fds.append(writing)
            options += ["--info-fd", str(writing)]
        options += ["--seccomp", str(self._pipe(seccomp.filter_program()))]
        options += ["--clearenv"]
        for name, value in allowed_environment(environment).items():
            options += ["--setenv", name, value]
        self.options = [*options, "--chdir", WORKDIR]

    def command(self, program: list[str]) -> list[str]:
        """The whole command: the sandbox, the start inside it (limits, the submission
        copied in), then ``program``."""
        return [*self.options, "--", sys.executable, "-m", MODULE,
                "--processes", str(self.limits.processes), "--", *program]

    @property
    def pass_fds(self) -> tuple[int, ...]:
        """The descriptors the sandbox's bubblewrap must inherit."""
        return tuple(self._fds)

    def preexec(self, group: ControlGroup | None = None):
        """The function to run in the child before bubblewrap starts: the control group
        and the limits."""
        return start_function(self.limits, group)

    def started(self) -> None:
        """Close this side's copies of what the sandbox inherited."""
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []

    def inside_pid(self, timeout: float = 60) -> int:
        """The sandbox's first process, as this computer numbers it (for its /proc/PID/root).

        Call after :meth:`started`: bubblewrap writes it once the sandbox is set up.
        """
        import json
        import select

        if self._info is None:
            raise RuntimeError("this sandbox was made without sockets")
        text = b""
        deadline = time.monotonic() + timeout
        while b"}" not in text:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._info], [], [], left)[0]:
                raise RuntimeError("the grading sandbox did not start within "
                                   f"{timeout:.0f} s")
            chunk = os.read(self._info, 4096)
            if not chunk:
                raise RuntimeError("the grading sandbox ended before it started its program")
            text += chunk
        return int(json.loads(text[:text.index(b"}") + 1])["child-pid"])

    def close(self) -> None:
        """Release everything this box holds here (safe to call more than once)."""
        self.started()
        if self._info is not None:
            with contextlib.suppress(OSError):
                os.close(self._info)
            self._info = None
        if self._staging is not None:
            self._staging.cleanup()
            self._staging = None

    @staticmethod
    def _bind(source, target: str) -> list[str]:
        return ["--ro-bind", str(source), str(target)]

    def _pipe(self, data: bytes) -> int:
        """A descriptor to read ``data`` from (small: it fits in the pipe's buffer)."""
        if len(data) > 60_000:
            raise ValueError("data for the sandbox must be small")
        reading, writing = os.pipe()
        os.write(writing, data)
        os.close(writing)
        self._fds.append(reading)
        return reading

    def _tmpfs(self, path: str, size_mb: int) -> list[str]:
        return ["--size", str(size_mb * MB), "--perms", "1777", "--tmpfs", path]

    def _stage(self, handed_in: Path) -> Path:
        """A copy of the submission that the sandbox can read, within the limits.

        The copy inside (:func:`main`) then puts it in the memory-backed working folder.
        Files of a submission may be readable by their owner only (a classroom's umask),
        and the sandbox has no capability to override that: the grader reads them here,
        with its own rights, leaving out links, special files and what is too large.
        """
        self._staging = tempfile.TemporaryDirectory(prefix="course-handed-in-")
        staged = Path(self._staging.name) / "files"
        staged.mkdir()
        copy_submission(handed_in, staged, max_file_mb=self.limits.file_size_mb,
                        max_total_mb=self.limits.tmp_size_mb)
        return staged


def copy_submission(source: Path, target: Path, *, max_file_mb: int | None = None,
                    max_total_mb: int | None = None) -> None:
    """Copy the regular files and folders of a submission; links and special files (pipes,
    devices) are left behind and never opened.

    A file that does not fit within the grading limits (larger than ``max_file_mb``, past
    ``max_total_mb`` in all, or refused by the file system) is left out and said on
    standard error, which the grading log shows: the notebook still runs, and a cell that
    needs the file fails as it would without it.
    """
    total = 0
    for root, folders, files in os.walk(source, followlinks=False):
        relative = Path(root).relative_to(source)
        for folder in list(folders):
            if os.path.islink(os.path.join(root, folder)):
                folders.remove(folder)
            else:
                (target / relative / folder).mkdir(exist_ok=True)
        for name in sorted(files):
            try:
                room = max_total_mb * MB - total if max_total_mb else None
                total += _copy_regular_file(Path(root) / name, target / relative / name,
                                            max_file_mb, room)
            except OSError as error:
                (target / relative / name).unlink(missing_ok=True)
                print(f"{relative / name} was left out of the grading copy: "
                      f"{error.strerror or error}. The grading limits are in "
                      "nbgrader_config.py (c.GradeInSandbox.*).", file=sys.stderr)


def _copy_regular_file(path: Path, target: Path, max_file_mb: int | None,
                       room: int | None) -> int:
    """Copy ``path`` if it is a regular file (not a link, pipe or device); its size."""
    import errno
    import stat

    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:  # a link: never followed, silently not part of it
            return 0
        raise
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            return 0
        if max_file_mb is not None and status.st_size > max_file_mb * MB:
            raise OSError(errno.EFBIG, "File too large")
        if room is not None and status.st_size > room:
            raise OSError(errno.ENOSPC, "No space left on device")
        with open(target, "wb") as copy:
            shutil.copyfileobj(handle, copy)
        return status.st_size


def main(arguments: list[str]) -> None:
    """Inside the sandbox: set the process limit, copy the handed-in files into the working
    folder, then run the program.

    Usage: ``python -m course_lib.autograder.sandbox [--processes N] -- PROGRAM ARGS``.
    The process limit is set here, inside the sandbox's own user namespace, where Linux
    counts only this sandbox's processes: set outside, it would count every process of
    the grading account, and one student's threads could stop the next sandbox starting.
    """
    if arguments[:1] == ["--processes"]:
        processes = int(arguments[1])
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
        arguments = arguments[2:]
    if arguments[:1] == ["--"]:
        arguments = arguments[1:]
    if os.path.isdir(HANDED_IN):
        copy_submission(Path(HANDED_IN), Path(WORKDIR))
    for folder in ("home", "ipython", "matplotlib", "keras"):
        os.makedirs(os.path.join(SANDBOX_TMP, folder), exist_ok=True)
    os.execvp(arguments[0], arguments)


if __name__ == "__main__":
    main(sys.argv[1:])
