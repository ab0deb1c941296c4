"""Times given by users: parsed once, strictly, to UTC.

Accepted: ISO-8601 strings (``2025-09-10``, ``2025-09-10T15:30``,
``2025-09-10 15:30:00Z``, ``...+05:30``), :class:`datetime.datetime`,
:class:`datetime.date`, :class:`pandas.Timestamp` and :class:`numpy.datetime64`.
Naive means UTC; aware is converted to UTC.  Day-first or month-first forms
such as ``01/02/2025`` are refused as ambiguous.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from intake_webcoos.errors import InvalidTimeError

TimeLike = str | dt.datetime | dt.date | pd.Timestamp | np.datetime64

#: Words accepted for the widths they name (in ``every=``, ``freq=``, ``sample=``...).
ALIASES = {"secondly": "1s", "minutely": "1min", "hourly": "1h", "daily": "1D",
           "weekly": "7D"}
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?)?"
    r"(?:Z|z|[+-]\d{2}(?::?\d{2})?)?"
)


def to_utc(value: TimeLike, name: str = "time") -> pd.Timestamp:
    """``value`` as a timezone-aware UTC :class:`pandas.Timestamp`.

    Parameters
    ----------
    value : str, datetime, date, Timestamp or datetime64
        The time; naive means UTC.
    name : str
        What the value is (``"start"``, ``"end"``), for the error message.

    Raises
    ------
    InvalidTimeError
        When the value cannot be read as one unambiguous instant.
    """
    if isinstance(value, str):
        text = value.strip()
        if not _ISO.fullmatch(text):
            raise InvalidTimeError(
                f"Cannot read {name}={value!r} as a time: use ISO 8601, e.g. '2025-09-10', "
                "'2025-09-10T15:30' or '2025-09-10T15:30:00Z' (naive times are UTC)."
            )
        value = text
    elif isinstance(value, bool) or not isinstance(value, dt.date | np.datetime64):
        raise InvalidTimeError(
            f"{name} must be a string, datetime, pandas.Timestamp or numpy.datetime64, "
            f"not {type(value).__name__}."
        )
    _check_exists(value, name)
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidTimeError(f"Cannot read {name}={value!r} as a time: {exc}.") from None
    if stamp is pd.NaT:
        raise InvalidTimeError(f"{name} is NaT (not a time).")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _check_exists(value: object, name: str) -> None:
    """Refuse a local time that its zone skips (the hour lost when clocks go forward)."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        return
    there = value.astimezone(dt.UTC).astimezone(value.tzinfo)
    if there.replace(tzinfo=None, fold=0) != value.replace(tzinfo=None, fold=0):
        raise InvalidTimeError(
            f"{name}={value.isoformat()} does not exist in {value.tzinfo}: the clocks skip "
            f"it (daylight saving time). Give the time in UTC, or the local time "
            f"{there.replace(tzinfo=None).isoformat()} it becomes.")


def time_range(start: TimeLike, end: TimeLike) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, end)`` in UTC, checked to be in order (both bounds are inclusive)."""
    first, last = to_utc(start, "start"), to_utc(end, "end")
    if first > last:
        raise InvalidTimeError(
            f"start={first.isoformat()} is after end={last.isoformat()}: swap them."
        )
    return first, last


def api_time(stamp: pd.Timestamp) -> str:
    """How times are sent to the API: UTC with a ``Z`` (microseconds only when needed)."""
    text = stamp.tz_convert("UTC").tz_localize(None).isoformat()
    return text + "Z"


def to_timedelta(value: str | dt.timedelta | pd.Timedelta, name: str = "every") -> pd.Timedelta:
    """A fixed, positive duration with a unit: ``"10min"``, ``"1h"``, ``"hourly"`` or a timedelta.

    Every width the package takes (``every=``, ``freq=``, ``sample=``,
    ``--older-than``) is read here, so all accept the same spellings and refuse
    the same way.
    A bare number (``10``, ``"10"``) is refused: pandas would read it as
    nanoseconds, which nobody means.
    """
    hint = "a fixed duration with a unit, such as '10min', '1h' or '1D' (or 'hourly'...)"
    if isinstance(value, str) and value.strip().lower() in ALIASES:
        value = ALIASES[value.strip().lower()]
    bare = isinstance(value, int | float) and not isinstance(value, bool)
    if bare or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise InvalidTimeError(f"{name}={value!r} has no unit: write {hint}.")
    if not isinstance(value, str | dt.timedelta | np.timedelta64):
        raise InvalidTimeError(f"{name}={value!r} is not {hint}.")
    try:
        delta = pd.Timedelta(value)
    except (ValueError, TypeError) as exc:
        raise InvalidTimeError(f"{name}={value!r} is not {hint}: {exc}.") from None
    if delta is pd.NaT:
        raise InvalidTimeError(f"{name}={value!r} is not a duration (NaT): write {hint}.")
    if delta <= pd.Timedelta(0):
        raise InvalidTimeError(f"{name}={value!r} is not a positive duration: write {hint}.")
    return delta
