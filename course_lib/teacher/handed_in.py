"""When a student handed in, as the learning platform recorded it.

The times inside a platform's download say when the download was made, not when the work
was handed in: Moodle 4.1+ streams the zip with ZipStream, which stamps every entry with
the moment of zipping (``files/classes/local/archive_writer/zip_writer.php``), and so does
Canvas' zipper. So the time comes from the platform's own record instead:

* **Moodle**: the grading worksheet's column "Last modified (submission)", which Moodle
  writes with ``userdate()`` in the teacher's language and time zone
  (``mod/assign/gradingtable.php``, ``col_timesubmitted``): ``Monday, 2 March 2026, 11:59
  PM`` in English, ``maandag 2 maart 2026, 23:59`` in Dutch, ``Montag, 2. März 2026,
  23:59`` in German. :func:`moodle_time` reads those, and the numeric forms a spreadsheet
  program may turn them into (``2026-03-02 23:59``, ``02.03.2026 23:59``).
* **Canvas**: only whether it was late (``LATE`` in the file name, ``lib/content_zipper.rb``),
  not by how much; see :func:`canvas_time`.

:func:`timestamp_text` writes a time the way nbgrader's ``timestamp.txt`` holds it, which
its late penalties compare with the assignment's due date.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from course_lib.teacher.course import CourseError

_MONTHS = {  # the month names of Moodle's language packs, by language
    "en": "january february march april may june july august september october november "
          "december",
    "nl": "januari februari maart april mei juni juli augustus september oktober november "
          "december",
    "de": "januar februar märz april mai juni juli august september oktober november "
          "dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre "
          "décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
          "diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre "
          "novembre dicembre",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro "
          "dezembro",
}
MONTHS = {name: number for names in _MONTHS.values()
          for number, name in enumerate(names.split(), start=1)} | {"jänner": 1, "maerz": 3}
_TIME = re.compile(r"(?<!\d)(\d{1,2})[:h](\d{2})(?::(\d{2}))?\s*([ap])?\.?\s*m?\.?(?![\w])",
                   re.IGNORECASE)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T]")
_DOTTED = re.compile(r"(?<!\d)(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)")
NOT_HANDED_IN = {"", "-"}


def zone(name: str | None) -> tzinfo:
    """The time zone called ``name`` (``Europe/Brussels``), or this computer's own (with its
    summer time: a March date and an April one may differ by an hour)."""
    if not name:
        from dateutil.tz import tzlocal

        return tzlocal()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseError(f"There is no time zone {name!r}: give it as the platform names "
                          "it, e.g. Europe/Brussels or America/New_York.") from None


def moodle_time(text: str, where: tzinfo) -> datetime | None:
    """The moment a Moodle worksheet's date means, in UTC; None for ``-`` (no submission).

    ``where`` is the time zone the worksheet was written in (the downloading teacher's
    Moodle profile). Raises ValueError, quoting the text, when it is not a date.
    """
    text = " ".join(text.split())
    if text in NOT_HANDED_IN:
        return None
    clock = _TIME.search(text)
    if not clock:
        raise ValueError(f"{text!r} has no time of day (such as 11:59 PM or 23:59)")
    hour, minute, second = int(clock[1]), int(clock[2]), int(clock[3] or 0)
    if clock[4]:  # 12-hour clock: 12:05 AM is 00:05, 12:05 PM is 12:05
        hour = hour % 12 + (12 if clock[4].lower() == "p" else 0)
    rest = text[:clock.start()] + " " + text[clock.end():]
    year, month, day = _date(rest, text)
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=where)
    except ValueError as error:
        raise ValueError(f"{text!r} is not a real date ({error})") from None
    return local.astimezone(timezone.utc)


def _date(rest: str, text: str) -> tuple[int, int, int]:
    iso = _ISO.match(text)
    if iso:
        return int(iso[1]), int(iso[2]), int(iso[3])
    dotted = _DOTTED.search(rest)
    if dotted:
        return int(dotted[3]), int(dotted[2]), int(dotted[1])
    words = re.findall(r"[^\W\d_]+|\d+", rest.lower())
    months = [MONTHS[w] for w in words if w in MONTHS]
    years = [int(w) for w in words if w.isdigit() and len(w) == 4]
    days = [int(w) for w in words if w.isdigit() and len(w) <= 2]
    if len(months) == 1 and len(years) == 1 and len(days) == 1:
        return years[0], months[0], days[0]
    raise ValueError(f"{text!r} is not a date as Moodle writes it (such as 'Monday, 2 March "
                     "2026, 11:59 PM' or 'maandag 2 maart 2026, 23:59')")


def canvas_time(late: bool, due: datetime | None) -> datetime | None:
    """The hand-in time to record for a Canvas submission, which says only whether it was
    late: none when on time (never late for nbgrader), one second past the due date when
    late (nbgrader's penalty for lateness applies; Canvas does not say how late), and none
    when the gradebook has no due date."""
    if not late or due is None:
        return None
    return due + timedelta(seconds=1)


def timestamp_text(when: datetime) -> str:
    """``when`` as nbgrader's ``timestamp.txt`` holds it (``2026-03-02 22:59:30.000000
    UTC``), which ``nbgrader.utils.parse_utc`` reads back."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
