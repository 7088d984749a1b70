"""Choose the event-log backend from one URL (OPSUITE_EVENTLOG_URL)."""

from __future__ import annotations

import pathlib

from services.common.eventlog.base import EventLog
from services.common.eventlog.sqlite import SqliteEventLog

DEFAULT_FILE = "eventlog.sqlite3"
DEFAULT_REDIS_PREFIX = "opsuite"
ACCEPTED_FORMS = (
    'None, "" or "sqlite://" (the file <data dir>/eventlog.sqlite3), '
    '"sqlite:///absolute/path.db", or "redis://host:port/db" with an optional "#prefix" '
    f'(default prefix "{DEFAULT_REDIS_PREFIX}")'
)


def open_event_log(url: str | None, data_dir: pathlib.Path) -> EventLog:
    """Open the event log named by url; the default is a SQLite file under data_dir.

    Raises ValueError naming the accepted forms for any other url.
    """
    if not url or url == "sqlite://":
        return SqliteEventLog(pathlib.Path(data_dir) / DEFAULT_FILE)
    if url.startswith("sqlite:///"):
        return SqliteEventLog(pathlib.Path(url.removeprefix("sqlite://")))
    if url.startswith(("redis://", "rediss://")):
        base, _, prefix = url.partition("#")
        if "#" in url and not prefix:
            raise ValueError(f"empty key prefix after '#' in event log URL; accepted: {ACCEPTED_FORMS}")
        # Imported only for a redis:// URL: the redis client costs about 21 MiB resident, which a
        # process on the default SQLite log should not pay.
        from services.common.eventlog.redis_streams import RedisEventLog

        return RedisEventLog(base, prefix or DEFAULT_REDIS_PREFIX)
    raise ValueError(f"unsupported event log URL {_redact(url)!r}; accepted: {ACCEPTED_FORMS}")


def _redact(url: str) -> str:
    """The url without a password, so the error message can be logged."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at:
        return url
    user = credentials.partition(":")[0]
    return f"{scheme}://{user}:***@{host}"
