"""Service inventories (``/services/{id}/inventory/``): counts and bytes per time bin.

The records and their parser, and :class:`Inventories`, which fetches a
service's inventory once, in the background, so that nobody has to wait for
it: the real one can take minutes or fail (HTTP 504).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import pandas as pd
from yarl import URL

from intake_webcoos.api.fields import (
    as_object,
    as_text,
    bad_field,
    field_name,
    opt_array,
    opt_int,
    parse_api_time,
    required_time,
)
from intake_webcoos.errors import SlowServiceError, WebcoosError

if TYPE_CHECKING:
    from intake_webcoos.api.cache import ClientCache
    from intake_webcoos.api.http import Transport
    from intake_webcoos.api.models import Service

logger = logging.getLogger("intake_webcoos.api")


@dataclass(frozen=True, slots=True)
class InventoryBin:
    """One time bin of a service inventory (``/services/{id}/inventory/``).

    Attributes
    ----------
    starting, ending : datetime
        Bin bounds, UTC.  Daily bins end at the next midnight; monthly bins end
        at the *start* of the month's last day (the API's convention).
    has_data : bool
        Whether any element starts in the bin.
    count : int
        Number of elements in the bin.
    size : int
        Bytes of those elements.
    data_starting, data_ending : datetime or None
        First and last element start in the bin; None for empty bins and for
        the older five-column inventories.
    """

    starting: datetime
    ending: datetime
    has_data: bool
    count: int
    size: int
    data_starting: datetime | None = None
    data_ending: datetime | None = None

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "") -> InventoryBin:
        """Build from one row as a mapping of column name to value.

        The API sends rows as arrays; :func:`parse_inventory` names their
        columns from ``meta.fields`` before calling this.
        """
        obj = as_object(obj, where or "<inventory row>")
        for column in ("starting", "ending", "count", "size"):
            if column not in obj:
                raise bad_field(field_name(where, column), "an inventory column", None)

        def number(column: str) -> int:
            # an empty bin may plausibly come as null instead of 0
            return opt_int(obj[column], field_name(where, column)) or 0

        count = number("count")
        return cls(
            starting=required_time(obj["starting"], field_name(where, "starting")),
            ending=required_time(obj["ending"], field_name(where, "ending")),
            has_data=(
                _flag(obj["has_data"], field_name(where, "has_data")) if "has_data" in obj
                else count > 0
            ),
            count=count,
            size=number("size"),
            data_starting=parse_api_time(obj.get("data_starting"),
                                         field_name(where, "data_starting")),
            data_ending=parse_api_time(obj.get("data_ending"), field_name(where, "data_ending")),
        )


_FLAGS: dict[Any, bool] = {1: True, 0: False, "1": True, "0": False, "true": True, "false": False}


def _flag(value: Any, name: str) -> bool:
    """``has_data``: typed bool but sent as 1/0; accept true/false and their strings."""
    if type(value) is bool:
        return value
    if type(value) is str:
        value = value.strip().lower()
    if type(value) in (int, str) and value in _FLAGS:
        return _FLAGS[value]
    raise bad_field(name, "1, 0, true or false", value)


def parse_inventory(payload: Any) -> dict[str, tuple[InventoryBin, ...]]:
    """Parse a service inventory into bins per resolution.

    Parameters
    ----------
    payload : dict or list
        The ``/services/{id}/inventory/`` response, ``{"results": [...]}``, or
        the bare ``results`` list.  Each result names its columns in
        ``meta.fields``; they are matched by name, so both the seven-column form
        and the older five-column form (no ``data_*``) work.

    Returns
    -------
    dict of str to tuple of InventoryBin
        Bins keyed by the result's ``name`` (``"daily"``, ``"weekly"``,
        ``"monthly"``), in payload order; empty when the service has no data.

    Raises
    ------
    ResponseFormatError
        If the payload does not have this shape.
    """
    if type(payload) is list:
        results, where = payload, ""
    else:
        payload = as_object(payload, "<inventory>")
        results = opt_array(payload.get("results"), "results")
        where = "results"

    inventory: dict[str, tuple[InventoryBin, ...]] = {}
    for i, result in enumerate(results):
        at = f"{where}[{i}]"
        result = as_object(result, at)
        name = as_text(result.get("name"), field_name(at, "name"))
        if name in inventory:
            raise bad_field(field_name(at, "name"), "a name not used by an earlier result", name)
        fields_name = field_name(at, "meta.fields")
        meta = as_object(result.get("meta"), field_name(at, "meta"))
        columns = []
        for j, spec in enumerate(opt_array(meta.get("fields"), fields_name)):
            # tolerate the abbreviated form where a field is just its name
            column = spec if type(spec) is str \
                else as_object(spec, f"{fields_name}[{j}]").get("name")
            columns.append(as_text(column, f"{fields_name}[{j}].name"))
        rows = []
        values_name = field_name(at, "values")
        for j, row in enumerate(opt_array(result.get("values"), values_name)):
            row_name = f"{values_name}[{j}]"
            if not isinstance(row, list | tuple) or len(row) != len(columns):
                raise bad_field(row_name, f"an array of {len(columns)} values (meta.fields)", row)
            record = dict(zip(columns, row, strict=True))
            rows.append(InventoryBin.from_json(record, where=row_name))
        inventory[name] = tuple(rows)
    return inventory


@dataclass
class _Pending:
    """An inventory request under way (or done), and whether a wait gave up on it."""

    task: asyncio.Future
    started: float = field(default_factory=time.monotonic)
    gave_up: bool = False


@dataclass(frozen=True)
class _Inventory:
    """A cached inventory, and when it was fetched."""

    monotonic: float
    fetched: pd.Timestamp
    bins: dict


class Inventories:
    """The inventories of a client's services: fetched once, in the background, and kept.

    Parameters
    ----------
    transport : Transport
        Where requests go (its settings give the timeouts and how long to keep them).
    url : callable
        ``url(path)``: the API URL of a path.
    cache : ClientCache
        The on-disk cache, where an inventory is kept for ``inventory_ttl``.
    """

    def __init__(self, transport: Transport, url: Callable[[str], URL],
                 cache: ClientCache) -> None:
        self._transport, self._url, self._cache = transport, url, cache
        self._settings = transport.settings
        self._cached: dict[str, _Inventory] = {}
        self._pending: dict[tuple[Any, str], _Pending] = {}

    async def get(self, service: Service, wait: float | None = None, *,
                  refresh: bool = False) -> dict | None:
        """A service's inventory bins by resolution, from memory, the disk or the API.

        With ``wait``, give up after that many seconds and return None; the request
        goes on in the background, so a later call may find it done.  Once a wait
        has given up, or the request failed, later waits (for ``assets_ttl``) return
        None at once instead of making every caller wait again.  ``refresh`` asks
        the API whatever is kept.
        """
        if not refresh:
            kept = await self._kept(service)
            if kept is not None:
                return kept
        key = (asyncio.get_running_loop(), service.slug)
        pending = self._pending.get(key)
        fresh = pending is not None and \
            time.monotonic() - pending.started < self._settings.assets_ttl
        failed = pending is not None and pending.task.done() and pending.task.exception()
        if wait is not None and fresh and (pending.gave_up or failed):
            return None
        if pending is None or failed or not fresh or (refresh and pending.task.done()):
            pending = _Pending(asyncio.ensure_future(self._fetch(service)))
            self._pending[key] = pending
        if wait is None:
            return await asyncio.shield(pending.task)
        try:
            return await asyncio.wait_for(asyncio.shield(pending.task), wait)
        except (TimeoutError, WebcoosError, OSError) as exc:
            logger.info("no inventory of %s within %s s: %s", service.slug, wait, exc)
            pending.gave_up = True
            return None

    async def _fetch(self, service: Service) -> dict:
        url = self._url(f"services/{service.slug}/inventory/")
        limit = self._settings.inventory_timeout
        try:
            async with asyncio.timeout(limit):
                payload = await self._transport.get_json(url, timeout=limit)
        except TimeoutError:
            raise SlowServiceError(
                f"The WebCOOS inventory of {service.slug} did not answer within {limit:g} s "
                "(inventories can take minutes on the real service). Try again later, or "
                "raise inventory_timeout=; listings (elements, ls of a day) do not need it."
            ) from None
        fetched = pd.Timestamp.now(tz="UTC")
        bins = self._remember(service, payload, fetched)
        await self._cache.put("inventory", (service.slug,), orjson.dumps(
            {"fetched": fetched.isoformat(), "inventory": payload}))
        return bins

    async def _kept(self, service: Service) -> dict | None:
        """The inventory kept in memory (``assets_ttl``) or on disk (``inventory_ttl``)."""
        cached = self._cached.get(service.slug)
        if cached is not None and time.monotonic() - cached.monotonic < self._settings.assets_ttl:
            return cached.bins
        kept = await self._cache.get("inventory", (service.slug,), self._settings.inventory_ttl)
        if kept is None:
            return None
        record = orjson.loads(kept)
        return self._remember(service, record["inventory"], pd.Timestamp(record["fetched"]))

    def _remember(self, service: Service, payload: Any, fetched: pd.Timestamp) -> dict:
        bins = parse_inventory(payload)
        self._cached[service.slug] = _Inventory(time.monotonic(), fetched, bins)
        return bins

    def empty_days(self, service: Service) -> frozenset[dt.date]:
        """UTC days a cached inventory shows empty, long enough ago that no upload is late."""
        cached = self._cached.get(service.slug)
        if cached is None:
            return frozenset()
        settled = cached.fetched - pd.Timedelta(seconds=self._settings.late_uploads)
        return frozenset(b.starting.date() for b in cached.bins.get("daily", ())
                         if not b.has_data and b.ending <= settled)
