"""The classroom server's login: the accounts' own passwords (PAM), for the class list as it
is now.

JupyterHub reads ``allowed_users`` once, when it starts, so a student added to the class
list later (``course hub --class-list`` again) could not log in until the hub restarted,
which stops everyone's server. :class:`CourseAuthenticator` is JupyterHub's
``PAMAuthenticator`` asking the hub's settings (``hub.json``, written by ``course hub``)
at each login instead: the teacher and the students listed there may log in, nobody else,
from the moment ``course hub`` has written them.
"""

from __future__ import annotations

import json
from pathlib import Path

from jupyterhub.auth import PAMAuthenticator
from traitlets import Unicode


class CourseAuthenticator(PAMAuthenticator):
    """PAM logins for the teacher and the students of the current class list."""

    settings_file = Unicode(help="the hub's settings (hub.json), written by `course hub`"
                            ).tag(config=True)

    def check_allowed(self, username, authentication=None):
        """Whether ``username`` is the teacher or on the class list, as saved now."""
        try:
            settings = json.loads(Path(self.settings_file).read_text())
        except (OSError, ValueError) as error:
            self.log.error("Cannot read the class list in %s (%s): nobody may log in.",
                           self.settings_file, error)
            return False
        return username == settings["teacher"] or username in settings["students"]
