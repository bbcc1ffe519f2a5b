"""Times in specs: RFC 3339 read and written for the years 1 to 9999, and the files' time
(``mtime``, SOURCE_DATE_EPOCH, ``created``) checked against what runtimes can give a file."""

import time

from ..core.errors import StrataError

DEFAULT_CREATED = "1970-01-01T00:00:01Z"


def parse_time(text, field):
    """Seconds since the epoch (negative before 1970) of an RFC 3339 time such as
    ``1970-01-01T00:00:01Z``, years 1 to 9999."""
    import datetime  # here, not above: most specs give no time, and every start pays the imports
    try:
        when = datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise StrataError("%s: %r is not an RFC 3339 time like 1970-01-01T00:00:01Z" % (field, text))
    if when.tzinfo is None:
        raise StrataError("%s: %r has no time zone; add Z or an offset" % (field, text))
    seconds = (when - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) // datetime.timedelta(seconds=1)
    return check_seconds(seconds, field)


def format_time(seconds):
    """RFC 3339 in UTC, with a four-digit year also before 1000 (strftime's ``%Y`` is not)."""
    import datetime
    when = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (when.year, when.month, when.day, when.hour, when.minute, when.second)


FIRST_SECOND, LAST_SECOND = -62135596800, 253402300799
"""0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the times RFC 3339 can write."""


def check_seconds(seconds, field):
    if not FIRST_SECOND <= seconds <= LAST_SECOND:
        raise StrataError("%s: %d seconds since 1970 is outside the years 1 to 9999" % (field, seconds))
    return seconds


def now():
    return int(time.time())


def file_mtime(fields, environ):
    """The files' time: ``mtime`` (``"now"`` allowed), else SOURCE_DATE_EPOCH, else
    ``created`` unless that is "now" (then 1970-01-01T00:00:01Z), checked against what
    runtimes can give a file (see LAST_FILE_TIME); a ``created`` before 1970 dates the
    files 1970-01-01T00:00:00Z."""
    mtime = fields.get("mtime", (int, str), None)
    if mtime == "now":  # as dockerTools allows: every build differs
        return now()
    if isinstance(mtime, str):
        return file_time(parse_time(mtime, "mtime"), "mtime", mtime)
    if mtime is not None:
        return file_time(check_seconds(mtime, "mtime"), "mtime", mtime)
    epoch = environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        if not epoch.isdigit():
            raise StrataError("SOURCE_DATE_EPOCH: expected seconds since 1970, got %r" % epoch)
        return file_time(int(epoch), "SOURCE_DATE_EPOCH", epoch)
    created = fields.get("created", str, DEFAULT_CREATED)
    seconds = parse_time(DEFAULT_CREATED if created == "now" else created, "created")
    return file_time(max(seconds, 0), "created (the files' time, without mtime)", created)


LAST_FILE_TIME = (1 << 63) // 10 ** 9
"""2262-04-11T23:47:16Z: podman and Docker set a file's time through Go's 64-bit count of
nanoseconds, which overflows after it (a file of 2300 gets 1901 or 1970)."""


def file_time(seconds, field, given):
    if seconds < 0:
        raise StrataError("%s: %s is before 1970; runtimes give such a file 1970-01-01T00:00:00Z" % (field, given))
    if seconds > LAST_FILE_TIME:
        raise StrataError("%s: %s is after 2262-04-11T23:47:16Z, the last time podman and Docker can give a file"
                          " (Go counts it in nanoseconds, in 64 bits)" % (field, given))
    return seconds
