"""Readings of the real API that the public record cannot settle, one switch each.

Nobody outside WebCOOS can check these without a token (``webcoos-api-notes.md``
tags them [I] or [G]), so the stand-in can show every documented reading, and
a client's tests can run over all of them (:data:`VARIANT_MATRIX`).  The
defaults are the best-supported readings.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from http import HTTPStatus
from typing import Any

#: The ways a malformed element record is broken, in rotation (see ``malformed_every``).
MALFORMATIONS = ("extents", "url", "time")
#: What a malformed record carries in ``data.extents.temporal.min`` (pandas' "not a time").
NOT_A_TIME = "NaT"


def _switch(default: Any, help: str, kind: type | None = None,
            choices: tuple[Any, ...] | None = None) -> Any:
    """A field with the one-line ``help`` of its ``serve`` option, its type and choices."""
    return field(default=default, metadata={"help": help, "kind": kind or type(default),
                                            "choices": choices})


@dataclass(frozen=True)
class Variants:
    """Which reading of the real API the stand-in serves, where the record is unclear.

    Parameters
    ----------
    end_rule : {"exclusive", "inclusive"}
        Whether ``starting_before`` excludes an element that starts exactly then
        (the official "Accessing Data" page) or includes it (as one client's test
        implies).  ``starting_after`` is inclusive either way.
    pagination : {"full", "minimal"}
        The nine-field pagination block of the official page (``count, page,
        total_pages, start_index, end_index, next, previous, next_page,
        previous_page``), or only the five fields clients in the wild rely on
        (``count, start_index, end_index, next, previous``).
    page_size_cap : int or None
        When set, a page silently holds at most this many elements whatever
        ``page_size`` asks; ``next`` and ``total_pages`` follow the cap.  None: no
        cap (the stand-in only refuses, with a 400, a ``page_size`` above
        100,000, as a guard against runaway requests).
    null_durations : bool
        Video elements carry ``"duration": null`` instead of their length.
    inventory_delay : float
        Seconds the inventory route waits before answering (the real one is slow).
    inventory_status : int or None
        When set, the inventory route answers this status (e.g. 504, as the real
        one sometimes does) with a DRF-style ``{"detail": ...}`` body, after the delay.
    raw_colons : bool
        File names with ``:`` (the ``stevens_hoboken`` 10-minute stills) appear in
        element URLs unencoded instead of as ``%3A``; the file origin serves both.
    bad_token_status : {403, 401}
        Status of a wrong token, with ``{"detail": "Invalid token."}``: 403 as
        DRF answers with session authentication listed first, or 401 with
        ``WWW-Authenticate: Token``.  A missing token is always 403.
    latest_routes : {"both", "production"}
        "production" serves the latest element only at
        ``/assets/{slug}/elements/latest/{image|video}/``; the
        ``/services/{id}/elements/latest`` route then answers 404 as if it did
        not exist.
    assets_pagination : bool
        False answers ``/assets/`` with ``{"results": [...]}`` and no pagination block.
    malformed_every : int
        When N > 0, element N, 2N, 3N... of each service (by index, counting
        from 1) is malformed, in turn with ``data.extents`` null,
        ``data.properties.url`` null, and ``data.extents.temporal.min`` not a time
        (``"NaT"``).  Counts, sizes and the inventory still include them.
    file_origins : {1, 2}
        With 2, a second file origin serves every other camera (odd positions in
        the catalog) in the legacy virtual-host style, where the host is the
        bucket (``http://127.0.0.1:PORT2/media/sources/...``, no ``webcoos/``).
    """

    end_rule: str = _switch("exclusive", "Whether starting_before excludes or includes an "
                            "element that starts exactly then.",
                            choices=("exclusive", "inclusive"))
    pagination: str = _switch("full", "Pagination block: the nine fields of the official "
                              "page, or only count/start_index/end_index/next/previous.",
                              choices=("full", "minimal"))
    page_size_cap: int | None = _switch(None, "Pages silently hold at most this many "
                                        "elements, whatever page_size asks (default: no cap).",
                                        kind=int)
    null_durations: bool = _switch(False, 'Video elements carry "duration": null.')
    inventory_delay: float = _switch(0.0, "Seconds the inventory route waits before "
                                     "answering.")
    inventory_status: int | None = _switch(None, "Status the inventory route answers "
                                           "instead (e.g. 504), after the delay (default: none).",
                                           kind=int)
    raw_colons: bool = _switch(False, "Colons in file names appear unencoded in element "
                               "URLs (not as %3A).")
    bad_token_status: int = _switch(403, "Status of a wrong token (a missing one is "
                                    "always 403).", choices=(403, 401))
    latest_routes: str = _switch("both", "'production': only /assets/{slug}/elements/latest/"
                                 "{image|video}/; /services/{id}/elements/latest is 404.",
                                 choices=("both", "production"))
    assets_pagination: bool = _switch(True, "Whether /assets/ carries a pagination block.")
    malformed_every: int = _switch(0, "Every Nth element record of a service is malformed "
                                   "(0: none).")
    file_origins: int = _switch(1, "With 2, every other camera's files come from a second "
                                "origin in the virtual-host style.", choices=(1, 2))

    def __post_init__(self) -> None:
        for f in fields(self):
            choices = f.metadata["choices"]
            if choices is not None and getattr(self, f.name) not in choices:
                raise ValueError(f"{f.name} must be one of {choices}, not "
                                 f"{getattr(self, f.name)!r}")
        if self.page_size_cap is not None and self.page_size_cap < 1:
            raise ValueError("page_size_cap must be at least 1 (or None)")
        if self.inventory_delay < 0 or self.malformed_every < 0:
            raise ValueError("inventory_delay and malformed_every must be >= 0")
        if self.inventory_status is not None and not _is_error_status(self.inventory_status):
            raise ValueError("inventory_status must be a known HTTP error status (4xx or 5xx)")

    @property
    def end_inclusive(self) -> bool:
        return self.end_rule == "inclusive"

    def malformation(self, index: int) -> str | None:
        """How element ``index`` (0-based, within its service) is broken, or None."""
        n = self.malformed_every
        if n == 0 or (index + 1) % n:
            return None
        return MALFORMATIONS[((index + 1) // n - 1) % len(MALFORMATIONS)]


def _is_error_status(status: int) -> bool:
    try:
        return HTTPStatus(status) >= 400
    except ValueError:
        return False


#: One entry per switch set to a non-default reading, plus ``"default"``: the
#: matrix a client's tests parametrize over.
VARIANT_MATRIX: dict[str, Variants] = {
    "default": Variants(),
    "end_rule": Variants(end_rule="inclusive"),
    "pagination": Variants(pagination="minimal"),
    "page_size_cap": Variants(page_size_cap=100),
    "null_durations": Variants(null_durations=True),
    "inventory_delay": Variants(inventory_delay=1.0),
    "inventory_status": Variants(inventory_status=504),
    "raw_colons": Variants(raw_colons=True),
    "bad_token_status": Variants(bad_token_status=401),
    "latest_routes": Variants(latest_routes="production"),
    "assets_pagination": Variants(assets_pagination=False),
    "malformed_every": Variants(malformed_every=10),
    "file_origins": Variants(file_origins=2),
}

