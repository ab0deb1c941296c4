"""Typed exceptions raised by intake_webcoos.

Every failure a user can cause or meet has its own class, and every message
says what to do about it.  All of them derive from :class:`WebcoosError`, so
``except WebcoosError`` catches anything this package raises on purpose.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class WebcoosError(Exception):
    """Base class of every error raised on purpose by intake_webcoos."""


class AuthenticationError(WebcoosError):
    """The API refused the request because of the token."""


class MissingTokenError(AuthenticationError):
    """No API token was given."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "No WebCOOS API token: pass token=... or set the environment variable "
            "WEBCOOS_API_TOKEN. Register at https://app.webcoos.org/u/accounts/login/ "
            "and copy the token from your profile page."
        )


class InvalidTokenError(AuthenticationError):
    """The API token was given but the API does not accept it."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "The WebCOOS API rejected the token (invalid or revoked). Copy a fresh "
            "token from your profile page at https://app.webcoos.org and pass it as "
            "token=... or WEBCOOS_API_TOKEN."
        )


class NotFoundError(WebcoosError, LookupError):
    """Something named by the user does not exist."""


def close_matches(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` of ``candidates`` that look like ``name``."""
    candidates = list(candidates)
    lowered = {c.lower(): c for c in candidates}
    found = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[f] for f in found]


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    matches = close_matches(name, candidates)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(m) for m in matches) + "?"


class UnknownAssetError(NotFoundError):
    """No camera has this slug or label."""

    def __init__(self, name: str, known: Iterable[str] = ()) -> None:
        self.name = name
        self.suggestions = close_matches(name, known)
        super().__init__(
            f"Unknown WebCOOS camera {name!r}.{_did_you_mean(name, known)} "
            "List the cameras with Client().assets() or `intake-webcoos cameras`."
        )


class UnknownProductError(NotFoundError):
    """The camera has no product of this name."""

    def __init__(self, asset: str, name: str, known: Iterable[str] = ()) -> None:
        known = list(known)
        self.asset = asset
        self.name = name
        self.suggestions = close_matches(name, known)
        listing = ", ".join(known) if known else "none"
        super().__init__(
            f"Camera {asset!r} has no product {name!r}.{_did_you_mean(name, known)} "
            f"Its products are: {listing}."
        )


class NoFilesError(NotFoundError):
    """The product exists but no service of it serves files (a stream only)."""

    def __init__(self, asset: str, product: str, with_files: Iterable[str] = ()) -> None:
        with_files = list(with_files)
        self.asset = asset
        self.product = product
        hint = (
            f" Products of {asset!r} with files: {', '.join(with_files)}."
            if with_files
            else f" Camera {asset!r} has no product with files."
        )
        super().__init__(
            f"Product {product!r} of camera {asset!r} has no S3 service, so it has no "
            f"files to list or read (it is a live stream only).{hint}"
        )


class InvalidTimeError(WebcoosError, ValueError):
    """A time or a time range given by the user cannot be used."""


class ServerError(WebcoosError):
    """The server kept failing after every allowed attempt."""

    def __init__(self, url: str, status: int | None, attempts: int, reason: str = "") -> None:
        self.url = url
        self.status = status
        self.attempts = attempts
        what = f"HTTP {status}" if status is not None else (reason or "no answer")
        detail = f" ({reason})" if reason and status is not None else ""
        super().__init__(
            f"{url} failed after {attempts} attempt(s): {what}{detail}. WebCOOS may be "
            "busy or down; try again later, or raise retries=/timeout= on the client."
        )


class IncompleteListingError(WebcoosError):
    """The pages of a listing did not add up to the count the server gave."""


class ForeignOriginError(WebcoosError):
    """The API pointed at another origin; the token is never sent there."""


class ResponseFormatError(WebcoosError, ValueError):
    """A payload from the server did not have the expected shape."""


class TruncatedDownloadError(WebcoosError, OSError):
    """A file arrived shorter (or longer) than its announced size."""


class ReadOnlyError(WebcoosError, PermissionError):
    """WebCOOS is read-only; writing through the filesystem is not possible."""


class RequestError(WebcoosError):
    """The API refused a request as malformed (a 4xx other than auth and throttling)."""

    def __init__(self, url: str, status: int, detail: str) -> None:
        self.url = url
        self.status = status
        self.detail = detail
        super().__init__(f"WebCOOS answered HTTP {status} to {url}: {detail}")


class EmptyRangeError(NotFoundError):
    """A selection holds no element (night, an outage, or outside the data)."""


class FrameError(WebcoosError):
    """An image could not be used as a frame of a cube."""

    def __init__(self, url: str, message: str) -> None:
        self.url = url
        super().__init__(f"{url}: {message}")


class FrameDecodeError(FrameError):
    """The bytes of an element are not a readable image."""


class FrameShapeError(FrameError):
    """A frame's size differs from the cube's (the camera changed resolution)."""


class MissingDependencyError(WebcoosError, ImportError):
    """An optional dependency (an extra) is not installed."""

    def __init__(self, package: str, extra: str, what: str) -> None:
        super().__init__(f"{what} needs {package}: pip install intake_webcoos[{extra}]")


class ResultsFormatError(WebcoosError, ValueError):
    """A detection-results file is empty or has a malformed record."""
