"""The classroom server's spawner: each student's JupyterLab as their own system account,
in the students' environment, within the per-student limits.

JupyterHub imports this (``c.JupyterHub.spawner_class``) in the hub process, which runs as
root. It is JupyterHub's own ``LocalProcessSpawner`` (a real system account per user),
with three things decided per user from the hub's settings (:mod:`course_lib.teacher.hub_config`):

* **which environment**: students run ``jupyterhub-singleuser`` of the students'
  environment, where ``course_lib`` is the students' package and nbgrader shows only the
  Assignments tab; the teacher runs the course's own environment, with Formgrader for the
  course;
* **where**: a student starts in their home, the teacher in the course folder;
* **limits**: memory, CPU and processes of the student's whole server (kernels included),
  JupyterHub's own ``mem_limit`` and ``cpu_limit`` settings (which ``LocalProcessSpawner``
  ignores) and :attr:`CourseSpawner.process_limit`, enforced through a control group made
  before the server starts (:mod:`course_lib.teacher.hub_cgroup`: a systemd scope, cgroup
  v2 or v1). Where the kernel does not let them hold, the student's server is not started
  and the message says why, unless ``limits_required`` is False: then it starts, and the
  hub's log and ``course hub status`` say it runs without limits. The teacher's server has
  no limits.

Each server starts with the usual file mask (022), whatever the hub's own (077, which keeps
the hub's files private): the teacher's released assignment and feedback must be readable.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Bool, Integer, Unicode, default

from course_lib.teacher import hub_cgroup
from course_lib.teacher.hub_limits import MB, STUDENT_LIMITS, StudentLimits, limits_of

SCOPE_WAIT = 10  # seconds for systemd-run to put the server into its scope


class CourseSpawner(LocalProcessSpawner):
    """LocalProcessSpawner with the course's environments, folders and limits per user."""

    settings_file = Unicode(help="the hub's settings (hub.json), written by `course hub`"
                            ).tag(config=True)
    process_limit = Integer(
        STUDENT_LIMITS.processes,
        help="""Most processes and threads a student's server (JupyterLab, its kernels and
        terminals together) may run at once; 0 for no limit. Like ``mem_limit`` and
        ``cpu_limit``, enforced through the server's control group; the teacher's server has
        no limits.""").tag(config=True)
    limits_required = Bool(
        True,
        help="""Refuse to start a student's server where its limits (``mem_limit``,
        ``cpu_limit``, ``process_limit``) cannot be enforced (cgroup v2 without the memory,
        cpu and pids controllers delegated to the hub's group). False starts it without
        limits; the hub's log and `course hub status` then say so.""").tag(config=True)

    @default("mem_limit")
    def _default_mem_limit(self):
        return int(STUDENT_LIMITS.memory_mb * MB)

    @default("cpu_limit")
    def _default_cpu_limit(self):
        return STUDENT_LIMITS.cpu_cores

    def student_limits(self) -> StudentLimits:
        """The per-student limits these settings give (None or 0: no such limit)."""
        return StudentLimits(memory_mb=self.mem_limit / MB if self.mem_limit else None,
                             cpu_cores=self.cpu_limit or None,
                             processes=self.process_limit or None)

    def _settings(self) -> dict:
        return json.loads(Path(self.settings_file).read_text())

    def _is_teacher(self, settings: dict) -> bool:
        return self.user.name == settings["teacher"]

    def get_env(self):
        """The user's environment: their environment's programs first, its Jupyter config."""
        env = super().get_env()
        settings = self._settings()
        role = "teacher" if self._is_teacher(settings) else "student"
        env["PATH"] = os.pathsep.join([str(Path(settings[f"{role}_python"]).parent),
                                       "/usr/local/bin", "/usr/bin", "/bin"])
        env["JUPYTER_CONFIG_PATH"] = settings[f"{role}_jupyter_config"]
        env["TF_CPP_MIN_LOG_LEVEL"] = "2"
        if role == "student":  # their login shell refuses logins (hub_logins): not here
            env["SHELL"] = "/bin/bash"
        if settings.get("data_path"):
            env["COURSE_MNIST_PATH"] = settings["data_path"]
        return env

    async def start(self):
        """Start the user's server in their environment and folder, within the limits."""
        settings = self._settings()
        teacher = self._is_teacher(settings)
        python = settings["teacher_python" if teacher else "student_python"]
        self.cmd = [str(Path(python).parent / "jupyterhub-singleuser")]
        self.notebook_dir = settings["course_dir"] if teacher else ""
        # The teacher's terminal starts where the server's process is: in the course.
        self._folder = settings["course_dir"] if teacher else None
        self._group, self._scope = None, False
        if not teacher:
            self._hold_to_limits()
        started = await super().start()
        if not teacher:
            await self._check_limits()
        return started

    def _hold_to_limits(self) -> None:
        """Make the student's control group (or systemd scope) before the server starts;
        refuse to start without it unless limits are optional."""
        self._group, self._scope = None, False
        limits = self.student_limits()
        wanted = hub_cgroup.Limits(
            memory_bytes=int(self.mem_limit) if self.mem_limit else None,
            cpu_cores=limits.cpu_cores, processes=self.process_limit or None)
        if hub_cgroup.route() == "systemd":
            unit = f"course-hub-{self.user.name}-{secrets.token_hex(4)}"
            self.cmd = hub_cgroup.scope_command(self.user.name, wanted, self.cmd, unit)
            self._scope = True
            return
        try:
            self._group = hub_cgroup.create(self.user.name, wanted)
        except hub_cgroup.NoLimits as error:
            self._no_limits(str(error))

    def _no_limits(self, why: str) -> None:
        if self.limits_required:
            raise hub_cgroup.NoLimits(
                f"{self.user.name}'s server was not started: its limits "
                f"({self.student_limits().describe()}) cannot be enforced here. {why}")
        self.log.warning("%s's server runs WITHOUT the per-student limits (%s): %s",
                         self.user.name, self.student_limits().describe(), why)

    async def _check_limits(self) -> None:
        """Verify that the student's server runs within its limits; stop it if it does not
        and limits are required."""
        limits = self.student_limits()
        waited = 0.0
        while True:
            try:
                found = limits_of(self.proc.pid)
            except OSError as error:
                found, why = None, f"Its control group cannot be read ({error})."
            else:
                in_force = StudentLimits(found.memory_mb, found.cpu_cores, found.processes)
                why = f"It runs with {in_force.describe()} instead."
            if found is not None and found.holds(limits):
                return
            if not self._scope or waited >= SCOPE_WAIT:
                break
            await asyncio.sleep(0.2)  # systemd-run enters its scope after it started
            waited += 0.2
        if self.limits_required:
            await self.stop(now=True)
        self._no_limits(why)

    def make_preexec_fn(self, name):
        """Join the user's control group (as root), then become the user, with the usual
        file mask, in their folder."""
        become_user = super().make_preexec_fn(name)
        group = getattr(self, "_group", None)
        folder = getattr(self, "_folder", None)
        scope = getattr(self, "_scope", False)
        home = os.path.expanduser(f"~{name}")

        def preexec():
            if group is not None:
                group.enter()
            os.umask(0o022)
            if scope:
                # systemd-run must ask for the scope as root; it becomes the user itself.
                os.chdir(home)
                return
            become_user()
            if folder:
                os.chdir(folder)
        return preexec

    async def stop(self, now=False):
        """Stop the server and remove its control group."""
        try:
            await super().stop(now=now)
        finally:
            # A server restored after the hub restarted was started by another spawner:
            # its group is found by the student's name.
            group = getattr(self, "_group", None) or hub_cgroup.existing(self.user.name)
            if group is not None:
                group.remove()
                self._group = None
