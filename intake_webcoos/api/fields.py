"""Tolerant readers of JSON fields, shared by every record of the API.

Each reader accepts what the API is known (or likely) to vary (absent or
``null`` optional fields, numbers sent as strings, any UTC offset) and raises
:class:`~intake_webcoos.errors.ResponseFormatError` naming the field's path in
the payload for anything else, never a bare ``KeyError``/``TypeError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from math import isfinite, isnan
from typing import Any

from intake_webcoos.errors import ResponseFormatError

# Spellings of "no value" seen in (or expected from) pandas-backed payloads.
_NO_TIME = frozenset({"", "NaT"})
_NO_NUMBER = frozenset({"", "None", "null", "NaN", "nan"})


def field_name(where: str, name: str) -> str:
    """Path of a field for error messages (``feeds[0].data.common.slug``)."""
    if not where:
        return name
    if not name or name.startswith("["):
        return where + name
    return f"{where}.{name}"


def bad_field(name: str, expected: str, value: Any) -> ResponseFormatError:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    got = "nothing (missing or null)" if value is None else f"{type(value).__name__} {shown}"
    return ResponseFormatError(
        f"Unexpected WebCOOS response: {name!r} should be {expected}, got {got}. "
        "The API may have changed; update intake_webcoos or report this payload."
    )


def as_object(value: Any, name: str) -> Mapping[str, Any]:
    """A required JSON object."""
    if type(value) is dict or isinstance(value, Mapping):
        return value
    raise bad_field(name, "an object", value)


def opt_object(value: Any, name: str) -> Mapping[str, Any]:
    """An optional JSON object; absent or null gives an empty mapping."""
    if type(value) is dict or isinstance(value, Mapping):
        return value
    if value is None:
        return {}
    raise bad_field(name, "an object or null", value)


def opt_array(value: Any, name: str) -> Sequence[Any]:
    """An optional JSON array; absent or null gives an empty sequence."""
    if type(value) is list or isinstance(value, tuple):
        return value
    if value is None:
        return ()
    raise bad_field(name, "an array or null", value)


def as_text(value: Any, name: str) -> str:
    """A required, non-empty string."""
    if type(value) is str and value:
        return value
    raise bad_field(name, "a non-empty string", value)


def opt_text(value: Any, name: str) -> str | None:
    if value is None or type(value) is str:
        return value
    raise bad_field(name, "a string or null", value)


def opt_int(value: Any, name: str) -> int | None:
    """A count or byte size: int, numeric string or integral float; blanks give None."""
    kind = type(value)
    if kind is int:
        return value
    if value is None:
        return None
    if kind is str:
        text = value.strip()
        if text in _NO_NUMBER:
            return None
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)  # "1e3", "123.0"
        except ValueError:
            raise bad_field(name, "an integer", value) from None
    elif kind is float:
        number = value
    else:
        # bool is an int subclass but never a count; lists and dicts are wrong too
        raise bad_field(name, "an integer", value)
    if number.is_integer():
        return int(number)
    raise bad_field(name, "an integer", value)  # a fraction, NaN or infinity


def opt_float(value: Any, name: str) -> float | None:
    """A real number: int, float or numeric string; blanks and NaN give None."""
    kind = type(value)
    if kind is float or kind is int:
        number = float(value)
    elif value is None:
        return None
    elif kind is str:
        text = value.strip()
        if text in _NO_NUMBER:
            return None
        try:
            number = float(text)
        except ValueError:
            raise bad_field(name, "a number", value) from None
    else:
        raise bad_field(name, "a number", value)
    if isnan(number):
        return None
    if not isfinite(number):
        raise bad_field(name, "a finite number", value)
    return number


def parse_api_time(value: Any, field: str) -> datetime | None:
    """Parse a time from an API payload into an aware UTC datetime.

    Parameters
    ----------
    value : str or None
        An ISO 8601 time as the API writes it: ``"2025-09-17T21:57:28Z"``,
        ``"2022-06-14T21:44:15.667000Z"``, ``"2022-06-02 00:00:00+00:00"`` (space
        separator, inventories) or with any other UTC offset.  A time without an
        offset is taken as UTC.
    field : str
        Name of the field, used in the error message.

    Returns
    -------
    datetime or None
        Aware datetime in UTC, or None for ``None``, ``""`` and ``"NaT"``.

    Raises
    ------
    ResponseFormatError
        If ``value`` is not a string or not a time.
    """
    if type(value) is str:
        try:
            # Python >= 3.11 reads "Z", fractions and a space separator natively.
            when = datetime.fromisoformat(value)
        except ValueError:
            text = value.strip()
            if text in _NO_TIME:
                return None
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                raise bad_field(field, "an ISO 8601 time", value) from None
    elif value is None:
        return None
    else:
        raise bad_field(field, "an ISO 8601 time string", value)
    tz = when.tzinfo
    if tz is UTC:
        return when
    if tz is None:
        return when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:
        raise bad_field(field, "a time within datetime's range in UTC", value) from None


def required_time(value: Any, name: str) -> datetime:
    when = parse_api_time(value, name)
    if when is None:
        raise bad_field(name, "an ISO 8601 time", value)
    return when


def envelope(obj: Any, where: str) -> tuple[str, Mapping[str, Any], Mapping[str, Any], str, str]:
    """Read the envelope every asset/feed/product/service node shares.

    Returns ``(uuid, data, common, slug, label)``; the label defaults to the slug.
    """
    obj = as_object(obj, where or "<payload>")
    uuid = as_text(obj.get("uuid"), field_name(where, "uuid"))
    data = as_object(obj.get("data"), field_name(where, "data"))
    common = as_object(data.get("common"), field_name(where, "data.common"))
    slug = as_text(common.get("slug"), field_name(where, "data.common.slug"))
    label = opt_text(common.get("label"), field_name(where, "data.common.label")) or slug
    return uuid, data, common, slug, label


def children(
    obj: Mapping[str, Any], key: str, where: str, parse: Callable[..., Any]
) -> tuple[Any, ...]:
    """Parse the optional child array ``obj[key]`` with ``parse(node, where=...)``."""
    name = field_name(where, key)
    return tuple(
        parse(child, where=f"{name}[{i}]") for i, child in enumerate(opt_array(obj.get(key), name))
    )
