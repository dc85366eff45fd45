"""The classroom server's leaderboard: a JupyterHub service every logged-in member opens.

``course hub`` registers it (``/services/leaderboard/``), started by the hub as the
teacher's account with ``python -m course_lib.teacher.leaderboard_service FOLDER``, where
``FOLDER`` is the course's :data:`~course_lib.teacher.leaderboard.PUBLISHED` folder. It
shows the page ``course autograde`` wrote there last (``?assignment=NAME`` another one),
read again at each request, so it is up to date after each grading. Whoever is not logged
in to the hub is sent to its login (JupyterHub's OAuth, :class:`HubOAuthenticated`); the
page is sent as it was written (names escaped, no scripts), and the browser is told to run
none.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.web import Application, RequestHandler, authenticated

from course_lib.teacher.leaderboard import SERVICE

ASSIGNMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
HEADERS = {
    # The page is text and a style sheet: nothing may run, load or frame it elsewhere.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
NOTHING_YET = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Leaderboard"
               "</title></head><body><p>No grading yet: the leaderboard appears after the "
               "first <code>course autograde</code>.</p><p lang=\"nl\">Nog niet beoordeeld: "
               "de rangschikking verschijnt na de eerste <code>course autograde</code>.</p>"
               "</body></html>\n")


def latest_page(folder: Path, assignment: str | None = None) -> str | None:
    """The page of ``assignment`` in ``folder``, or the one written last; None if none."""
    if assignment:
        if not ASSIGNMENT_NAME.match(assignment):
            return None
        pages = [folder / f"{assignment}.html"]
    else:
        pages = sorted(folder.glob("*.html"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in pages:
        if path.is_file() and not path.is_symlink():
            return path.read_text(encoding="utf-8")
    return None


class LeaderboardPage(HubOAuthenticated, RequestHandler):
    """The latest leaderboard, for anyone logged in to the hub."""

    def initialize(self, folder: Path):
        self.folder = folder

    @authenticated
    def get(self):
        """Send the page (or a note that there is none yet)."""
        for header, value in HEADERS.items():
            self.set_header(header, value)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        found = latest_page(self.folder, self.get_argument("assignment", None))
        if found is None and self.get_argument("assignment", None):
            self.set_status(404)
        self.finish(found or NOTHING_YET)


def make_app(folder: Path, prefix: str) -> Application:
    """The service's web application, under the hub's ``prefix`` for it."""
    return Application([
        (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
        (prefix, LeaderboardPage, {"folder": folder}),
    ], cookie_secret=os.urandom(32))


def main(argv: list[str]) -> int:
    """Serve the pages in folder ``argv[0]`` where the hub says (its environment)."""
    if len(argv) != 1:
        print("usage: python -m course_lib.teacher.leaderboard_service FOLDER",
              file=sys.stderr)
        return 2
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{SERVICE}/")
    address = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    HTTPServer(make_app(Path(argv[0]), prefix)).listen(address.port, address.hostname)
    IOLoop.current().start()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
