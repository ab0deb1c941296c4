"""Every exception intake_webcoos raises on purpose, under one base.

All derive from :class:`WebcoosError`, so ``except WebcoosError`` catches
anything this package raises deliberately.  Each also derives from the
built-in a PyData user would expect, as fsspec filesystems do:

* I/O failures (a server that keeps failing, a listing that does not add up, a
  file that arrives short, an answer of the wrong shape) are :class:`OSError`;
* a ``webcoos://`` path or element file that does not exist is
  :class:`FileNotFoundError`; an unknown camera or product is :class:`LookupError`;
* bad input (a time, a position, an option) is :class:`ValueError`;
* a refused token and writing to the read-only archive are :class:`PermissionError`.

Every message says what to do about the failure.  The errors pickle (dask sends
a worker's exception back to the client), keeping their attributes.

An error raised while handling another is chained to it (``raise ... from exc``)
when the cause says something the message does not: the aiohttp failure behind a
:class:`ServerError`, the parser's complaint behind a :class:`ResponseFormatError`,
the decoder's behind a :class:`FrameDecodeError`.  ``from None`` is kept where the
cause is only the failed lookup or conversion of a value the message already quotes.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from typing import Any

__all__ = [
    "ArgumentTypeError",
    "AuthenticationError",
    "BlockingCallError",
    "EmptyRangeError",
    "FolderLockError",
    "ForeignOriginError",
    "FrameDecodeError",
    "FrameError",
    "FrameShapeError",
    "GeometryError",
    "IncompleteListingError",
    "InterpreterExitError",
    "InvalidArgumentError",
    "InvalidLocationError",
    "InvalidTimeError",
    "InvalidTokenError",
    "MalformedRecordsWarning",
    "MissingDependencyError",
    "MissingTokenError",
    "MissingVariableError",
    "NoFilesError",
    "NotAFileError",
    "NotFoundError",
    "PathNotFoundError",
    "ProductKindError",
    "ReadOnlyError",
    "RequestError",
    "ResponseFormatError",
    "ResultsFormatError",
    "SelectionTooLargeError",
    "ServerError",
    "SlowServiceError",
    "TruncatedDownloadError",
    "UnknownAssetError",
    "UnknownProductError",
    "WebcoosError",
    "close_matches",
]

REGISTER_URL = "https://app.webcoos.org/u/accounts/login/"
PROFILE_URL = "https://app.webcoos.org"


def _rebuild(cls: type, args: tuple, state: dict[str, Any]) -> BaseException:
    # The C-level base decides how the instance is laid out: OSError's or BaseException's.
    base = OSError if issubclass(cls, OSError) else BaseException
    error = base.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class WebcoosError(Exception):
    """Base class of every error raised on purpose by intake_webcoos."""

    def __reduce__(self) -> tuple:
        # Subclasses take other constructor arguments than their message, so
        # rebuild from the message and the attributes instead of calling __init__.
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class AuthenticationError(WebcoosError, PermissionError):
    """The API refused the request because of the token."""


class MissingTokenError(AuthenticationError):
    """No API token was given."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "No WebCOOS API token: pass token=... or set the environment variable "
            f"WEBCOOS_API_TOKEN. Register at {REGISTER_URL} and copy the token from your "
            "profile page. On dask workers that need the API (element files never do), "
            "set WEBCOOS_API_TOKEN in the workers' environment."
        )


class InvalidTokenError(AuthenticationError):
    """The API token was given but cannot be used (the API refused it, or it is garbled)."""

    def __init__(self, why: str = "The WebCOOS API rejected the token (invalid or revoked).",
                 ) -> None:
        super().__init__(
            f"{why} Copy a fresh token from your profile page at {PROFILE_URL} and pass it "
            "as token=... or WEBCOOS_API_TOKEN."
        )


class NotFoundError(WebcoosError, LookupError):
    """Something named by the user does not exist."""


class PathNotFoundError(NotFoundError, FileNotFoundError):
    """A ``webcoos://`` path, or an element file on its host, does not exist."""


def close_matches(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` of ``candidates`` that look like ``name``."""
    lowered = {c.lower(): c for c in candidates}
    found = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[f] for f in found]


def _did_you_mean(matches: list[str]) -> str:
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(m) for m in matches) + "?"


class UnknownAssetError(NotFoundError):
    """No camera has this slug or label."""

    def __init__(self, name: str, known: Iterable[str] = ()) -> None:
        self.name = name
        self.suggestions = close_matches(name, known)
        super().__init__(
            f"Unknown WebCOOS camera {name!r}.{_did_you_mean(self.suggestions)} "
            "List the cameras with Client().cameras() or `intake-webcoos cameras`."
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
            f"Camera {asset!r} has no product {name!r}.{_did_you_mean(self.suggestions)} "
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


class EmptyRangeError(NotFoundError):
    """A selection holds no element (night, an outage, or outside the data)."""


class InvalidArgumentError(WebcoosError, ValueError):
    """An argument's value cannot be used (a scale, a size, an option out of its range)."""


def one_of(name: str, value: Any, choices: Collection[Any]) -> Any:
    """``value`` if it is one of ``choices``, else an :class:`InvalidArgumentError` listing them.

    Examples
    --------
    >>> one_of("on_error", "mask", ("raise", "mask"))
    'mask'
    """
    if value in choices:
        return value
    *others, last = (repr(c) for c in choices)
    listed = f"{', '.join(others)} or {last}" if others else last
    raise InvalidArgumentError(f"{name} must be {listed}, not {value!r}")


class ArgumentTypeError(WebcoosError, TypeError):
    """Arguments of the wrong kind, or a combination a function cannot take."""


class MissingVariableError(WebcoosError, KeyError):
    """A Dataset lacks the variable an operation reads (``image``, a coordinate)."""

    def __str__(self) -> str:
        # KeyError's str() quotes its argument: show the message as written.
        return str(self.args[0]) if self.args else ""


class NotAFileError(WebcoosError, IsADirectoryError):
    """A ``webcoos://`` folder was given where a file is needed."""


class BlockingCallError(WebcoosError, RuntimeError):
    """A blocking call was made on the event loop it would wait for (it would hang)."""


class InterpreterExitError(WebcoosError, RuntimeError):
    """A blocking call in a worker thread gave up: the main thread has ended (Ctrl-C)."""


class InvalidTimeError(WebcoosError, ValueError):
    """A time or a time range given by the user cannot be used."""


class InvalidLocationError(WebcoosError, ValueError):
    """A position or a box given by the user cannot be used (``near=``, ``within=``, ``bbox=``)."""


class ServerError(WebcoosError, OSError):
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


class SlowServiceError(WebcoosError, OSError):
    """The service did not answer within the time allowed (an inventory, most often).

    Not a :class:`TimeoutError`: fsspec's blocking calls replace every
    ``TimeoutError`` with their own, which would hide this message.
    """


class IncompleteListingError(WebcoosError, OSError):
    """The pages of a listing did not add up to the count the server gave."""


class ResponseFormatError(WebcoosError, OSError, ValueError):
    """A payload from the server did not have the expected shape."""


class ForeignOriginError(ResponseFormatError):
    """The API pointed at another origin; the token is never sent there."""


class RequestError(WebcoosError, OSError):
    """The server refused a request as malformed (a 4xx other than auth and throttling)."""

    def __init__(self, url: str, status: int, detail: str) -> None:
        self.url = url
        self.status = status
        self.detail = detail
        super().__init__(f"WebCOOS answered HTTP {status} to {url}: {detail}")


class FolderLockError(WebcoosError, OSError):
    """A download folder's lock could not be taken (other processes kept taking it first)."""


class TruncatedDownloadError(WebcoosError, OSError):
    """A file arrived shorter (or longer) than its announced size."""


class ReadOnlyError(WebcoosError, PermissionError):
    """WebCOOS is read-only; writing through the filesystem is not possible."""


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


class GeometryError(WebcoosError, ValueError):
    """A camera geometry (or its file) is missing a field or has an invalid one."""


class ProductKindError(WebcoosError, ValueError):
    """A product was given to the reader of another kind of file (stills to open_video...)."""


class SelectionTooLargeError(WebcoosError, ValueError):
    """A cube opened without bounds would hold more frames than allowed."""


class ResultsFormatError(WebcoosError, ValueError):
    """A detection-results file is empty or has a malformed record."""


class MalformedRecordsWarning(UserWarning):
    """Records of a listing could not be read and were skipped (each one is named)."""
