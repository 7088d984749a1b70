"""Appends blocks to an event log until killed: the writer of the crash test.

Usage: python -m tests.common.eventlog.blocks_writer_main URL DATA_DIR
URL is an event-log URL (sqlite:///path or redis://...#prefix). It prints "appending" once its first
block is in, then appends days of 148 records as fast as it can, until SIGKILL.
"""

from __future__ import annotations

import datetime as dt
import itertools
import pathlib
import sys

from services.common.eventlog import NewRecord, open_event_log

T0 = dt.datetime(2021, 6, 1, 13, 0, tzinfo=dt.UTC)


def main() -> None:
    log = open_event_log(sys.argv[1], pathlib.Path(sys.argv[2]))
    head = log.head("market")
    for day in itertools.count():
        records = [
            NewRecord(f"kill-{head + i}", "price.tick", T0, payload=b"p" * (i % 200), seq=head + i)
            for i in range(1, 149)
        ]
        log.append_block("market", records)
        head += len(records)
        if day == 0:
            print("appending", flush=True)


if __name__ == "__main__":
    main()
