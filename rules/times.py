"""Every time a person reads, written one way: in TIPBOT_TIMEZONE, `dd/mm/yyyy HH:MM`.

Stored times are UTC (ISO text in the database, unix times in a few worker tables); this is the
one place that turns them into what a resident, an officer or an admin reads, in every message
and button (SPEC "Officer").
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from storage.hours import moment_of

FORMAT = "%d/%m/%Y %H:%M"
NONE = "—"


def local_time(moment: str | float | datetime | None, zone: tzinfo) -> str:
    """`moment` (ISO text, a unix time or a datetime; naive means UTC) as people read it;
    "—" for None."""
    if moment is None:
        return NONE
    return moment_of(moment).astimezone(zone).strftime(FORMAT)
