"""Times as the database keeps them: to the hour in clear columns, exact only inside ciphertexts.

A clear time to the second (or the minute), together with a tip's area, category and urgency,
lets someone holding the database file and a phone company's records find who reported. So
every time column that concerns a tip or a resident holds the hour only (rounded down), in the
ISO text of every `*_at` column; where the product shows an exact time (a card, `/tip`,
`/status`), that time is kept inside the tip's encrypted values. See docs/privacy.md.
"""

from __future__ import annotations

from datetime import UTC, datetime

from storage.database import utc_now


def exact_now() -> str:
    """The current UTC time to the second: only ever to be stored encrypted."""
    return utc_now()


def moment_of(moment: str | float | datetime) -> datetime:
    """A stored time (ISO text, a unix time or a datetime; naive means UTC) as an aware one."""
    if isinstance(moment, str):
        when = datetime.fromisoformat(moment)
    elif isinstance(moment, datetime):
        when = moment
    else:
        when = datetime.fromtimestamp(moment, UTC)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def hour_of(moment: str | float | datetime) -> str:
    """`moment` (ISO text, a unix time or an aware datetime) rounded down to its UTC hour."""
    when = moment_of(moment).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return when.isoformat(timespec="seconds")


def this_hour() -> str:
    """The current UTC hour, for a clear column."""
    return hour_of(datetime.now(UTC))
