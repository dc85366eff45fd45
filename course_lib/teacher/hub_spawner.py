"""The classroom server's spawner: each student's JupyterLab as their own system account,
in the students' environment, within the per-student limits.

JupyterHub imports this (``c.JupyterHub.spawner_class``) in the hub process, which runs as
root. It is JupyterHub's own ``LocalProcessSpawner`` (a real system account per user),
with three things decided per user from the hub's settings (:mod:`course_lib.teacher.hub`):

* **which environment**: students run ``jupyterhub-singleuser`` of the students'
  environment, where ``course_lib`` is the students' package and nbgrader shows only the
  Assignments tab; the teacher runs the course's own environment, with Formgrader for the
  course;
* **where**: a student starts in their home, the teacher in the course folder;
* **limits**: memory and CPU of the student's whole server (kernels included), through a
  control group made before the server starts and removed when it stops; where the kernel
  does not let them hold, the hub's log says so (and ``course hub status``).

Each server starts with the usual file mask (022), whatever the hub's own (077, which keeps
the hub's files private): the teacher's released assignment and feedback must be readable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Unicode

from course_lib.autograder.limits import ControlGroup, Limits
from course_lib.teacher.hub_limits import limits_of


class CourseSpawner(LocalProcessSpawner):
    """LocalProcessSpawner with the course's environments, folders and limits per user."""

    settings_file = Unicode(help="the hub's settings (hub.json), written by `course hub`"
                            ).tag(config=True)

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
        limits = settings["limits"]
        self._group = None if teacher else ControlGroup.create(
            Limits(memory_mb=limits["memory_mb"], processes=limits["processes"]),
            cpu_cores=limits["cpu_cores"])
        started = await super().start()
        if not teacher:
            self._check_limits(limits)
        return started

    def _check_limits(self, limits: dict) -> None:
        """Say in the hub's log if the student's server runs without its limits."""
        try:
            found = limits_of(self.proc.pid)
        except OSError as error:
            found, why = None, str(error)
        else:
            why = f"found {found}"
        if found is None or not found.holds(limits["memory_mb"], limits["cpu_cores"]):
            self.log.warning(
                "%s's server runs WITHOUT the per-student limits (%s MB, %s core(s)): %s. "
                "The kernel did not let the hub make a control group with them (on cgroup "
                "v2 the memory and cpu controllers must be delegated to the hub's group).",
                self.user.name, limits["memory_mb"], limits["cpu_cores"], why)

    def make_preexec_fn(self, name):
        """Join the user's control group (as root), then become the user, with the usual
        file mask, in their folder."""
        become_user = super().make_preexec_fn(name)
        group = getattr(self, "_group", None)
        folder = getattr(self, "_folder", None)

        def preexec():
            if group is not None:
                group.enter()
            os.umask(0o022)
            become_user()
            if folder:
                os.chdir(folder)
        return preexec

    async def stop(self, now=False):
        """Stop the server and remove its control group."""
        try:
            await super().stop(now=now)
        finally:
            group = getattr(self, "_group", None)
            if group is not None:
                group.remove()
                self._group = None
