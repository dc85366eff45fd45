"""A Jupyter kernel manager that starts the student's kernel inside the grading sandbox.

No kernel spec is installed for this: nbgrader's execute step creates this manager
directly (see :mod:`course_lib.autograder.execute`), so reading the course configuration
changes nothing on the computer, and a read-only JupyterHub environment works.

The kernel runs in its own network namespace, so it cannot reach TCP ports on the host:
the manager uses ZeroMQ's ``ipc`` transport, whose Unix sockets live in a private folder
shared with the sandbox.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from traitlets import Unicode

from course_lib.autograder import limits as limits_module
from course_lib.autograder.sandbox import bwrap_arguments


def _socket_parent() -> str | None:
    # A memory-backed folder: what the kernel writes there counts against its memory
    # limit instead of filling the disk.
    return "/dev/shm" if Path("/dev/shm").is_dir() else None


class SandboxKernelManager(AsyncKernelManager):
    """Start ``python -m ipykernel_launcher`` in bubblewrap, with limits, over Unix sockets."""

    handed_in = Unicode(help="the submission folder, copied into the sandbox at start")

    def __init__(self, *args, limits: limits_module.Limits | None = None, **kwargs):
        self._sockets = Path(tempfile.mkdtemp(prefix="course-kernel-", dir=_socket_parent()))
        kwargs.setdefault("transport", "ipc")
        kwargs.setdefault("ip", str(self._sockets / "kernel"))
        super().__init__(*args, **kwargs)
        self.connection_file = str(self._sockets / "connection.json")
        self.limits = limits or limits_module.Limits()
        self.group: limits_module.ControlGroup | None = None

    @property
    def kernel_spec(self) -> KernelSpec:
        """A plain Python kernel, interrupted by message (a signal would end bubblewrap)."""
        if self._kernel_spec is None:
            self._kernel_spec = KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name="Python 3 (grading sandbox)", language="python",
                interrupt_mode="message")
        return self._kernel_spec

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        """The kernel command, wrapped in the sandbox that first copies the submission in."""
        kernel = super().format_kernel_cmd(extra_arguments)
        sandbox = bwrap_arguments(handed_in=Path(self.handed_in) if self.handed_in else None,
                                  sockets=self._sockets,
                                  tmp_size_mb=self.limits.tmp_size_mb)
        return [*sandbox, "--", sys.executable, "-m", "course_lib.autograder.sandbox", "--",
                *kernel]

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        self.group = limits_module.ControlGroup.create(self.limits)
        kw["preexec_fn"] = limits_module.start_function(self.limits, self.group)
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    def out_of_memory(self) -> bool:
        """Whether the kernel was ended for using more memory than allowed."""
        return self.group is not None and self.group.out_of_memory()

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        """Remove the sockets folder and the kernel's cgroup once it has stopped."""
        await super()._async_cleanup_resources(restart)
        if not restart:
            self.release()

    def release(self) -> None:
        """Remove the sockets folder and the cgroup, whatever became of the kernel.

        Safe to call more than once; the grading step calls it when it is done, because a
        kernel that never started, or died, is not always shut down through Jupyter.
        """
        shutil.rmtree(self._sockets, ignore_errors=True)
        if self.group is not None:
            self.group.remove()
            self.group = None
