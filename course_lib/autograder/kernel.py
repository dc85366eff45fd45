"""A Jupyter kernel manager that starts the student's kernel inside the grading sandbox.

No kernel spec is installed for this: nbgrader's execute step creates this manager
directly (see :mod:`course_lib.autograder.execute`), so reading the course configuration
changes nothing on the computer, and a read-only JupyterHub environment works.

The kernel runs in its own network namespace, so it cannot reach TCP ports on the host:
the manager uses ZeroMQ's ``ipc`` transport. Its Unix sockets live in a small
memory-backed folder inside the sandbox (nothing the kernel writes there can fill this
computer's disk or memory), which the grader reaches from outside through the sandbox's
``/proc/PID/root``. The connection file (with the kernel's key) is given to the sandbox
as read-only data, not through a shared folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from traitlets import Unicode

from course_lib.autograder import limits as limits_module
from course_lib.autograder.sandbox import SOCKETS, Box

INSIDE_CONNECTION_FILE = "/run/connection.json"


class SandboxKernelManager(AsyncKernelManager):
    """Start ``python -m ipykernel_launcher`` in bubblewrap, with limits, over Unix sockets."""

    handed_in = Unicode(help="the submission folder, copied into the sandbox at start")

    def __init__(self, *args, limits: limits_module.Limits | None = None, **kwargs):
        self._private = tempfile.TemporaryDirectory(prefix="course-kernel-")
        kwargs.setdefault("transport", "ipc")
        kwargs.setdefault("ip", f"{SOCKETS}/kernel")
        super().__init__(*args, **kwargs)
        self.connection_file = os.path.join(self._private.name, "connection.json")
        self.limits = limits or limits_module.Limits()
        self.group: limits_module.ControlGroup | None = None
        self.box: Box | None = None

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
        kernel = [INSIDE_CONNECTION_FILE if word == os.path.realpath(self.connection_file)
                  else word for word in super().format_kernel_cmd(extra_arguments)]
        if self.box is not None:
            self.box.close()
        self.box = Box(limits=self.limits, sockets=True,
                       handed_in=Path(self.handed_in) if self.handed_in else None,
                       data_files={INSIDE_CONNECTION_FILE: Path(self.connection_file)})
        return self.box.command(kernel)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        self.group = limits_module.ControlGroup.create(self.limits)
        if self.box is not None:
            kw["preexec_fn"] = self.box.preexec(self.group)
            kw["pass_fds"] = self.box.pass_fds
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            if self.box is not None:
                self.box.started()
        if self.box is not None and self.transport == "ipc":
            # The kernel's sockets, as this computer sees them from outside the sandbox.
            self.ip = f"/proc/{self.box.inside_pid()}/root{SOCKETS}/kernel"

    def out_of_memory(self) -> bool:
        """Whether the kernel was ended for using more memory than allowed."""
        return self.group is not None and self.group.out_of_memory()

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        """Remove the private folder and the kernel's cgroup once it has stopped."""
        await super()._async_cleanup_resources(restart)
        if not restart:
            self.release()

    def release(self) -> None:
        """Remove the private folder, the sandbox's copies and the cgroup, whatever became
        of the kernel.

        Safe to call more than once; the grading step calls it when it is done, because a
        kernel that never started, or died, is not always shut down through Jupyter.
        """
        self._private.cleanup()
        if self.box is not None:
            self.box.close()
        if self.group is not None:
            self.group.remove()
            self.group = None
