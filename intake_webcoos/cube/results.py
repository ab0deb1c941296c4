"""Detection results (JSON or JSON Lines files) as one table, one row per detection.

Schema-agnostic: each record is flattened with ``pandas.json_normalize``; list
fields of equal length (one item per detection, e.g. scores and boxes) are
exploded into one row per detection, and the dicts and lists inside them are
flattened into dotted columns (``classification_scores.rip``,
``classification_bboxes.0.x``).  A record without detections keeps one row
with empty detection columns, so "nothing detected" is not lost.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from intake_webcoos.api.times import TimeLike
from intake_webcoos.cube.selection import Selection, document
from intake_webcoos.errors import EmptyRangeError, ResultsFormatError, WebcoosError, one_of
from intake_webcoos.fs.element_files import fetch_batch, listed_sizes

ELEMENT_COLUMNS = ("time", "asset", "product", "url", "filename")


def parse_records(data: bytes, url: str) -> list[dict[str, Any]]:
    """The records of one results file: a JSON object or array, or JSON Lines.

    Raises
    ------
    ResultsFormatError
        The file is empty or a record is not a JSON object (names the URL and line).
    """
    text = data.decode("utf-8", errors="replace").strip()
    if not text:
        raise ResultsFormatError(f"{url}: the results file is empty.")
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if isinstance(whole, dict):
        return [whole]
    if isinstance(whole, list) and all(isinstance(r, dict) for r in whole):
        return whole
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise ResultsFormatError(f"{url}, line {number}: not JSON ({exc}).") from exc
        if not isinstance(record, dict):
            raise ResultsFormatError(f"{url}, line {number}: a record must be a JSON object.")
        records.append(record)
    return records


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}", out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}.{i}", out)
    else:
        out[prefix] = value


def detections_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records to one row per detection (see the module's description)."""
    rows = []
    for record in records:
        flat = pd.json_normalize(record).iloc[0].to_dict()
        lists = {k: v for k, v in flat.items() if isinstance(v, list)}
        scalars = {k: v for k, v in flat.items() if k not in lists}
        lengths = {len(v) for v in lists.values() if v}
        if len(lengths) > 1:  # lists that do not line up are not per-detection: keep whole
            scalars.update({k: json.dumps(v) for k, v in lists.items()})
            lists, lengths = {}, set()
        if not lengths:
            rows.append({**scalars, "detection": pd.NA})
            continue
        for i in range(lengths.pop()):
            row = {**scalars, "detection": i}
            for key, values in lists.items():
                _flatten(values[i], key, row)
            rows.append(row)
    return pd.DataFrame(rows)


@document("camera", "start", "every", "cache", "token")
def read_results(
    camera: str | Sequence[str] | None = None, product: str | None = None,
    start: TimeLike | None = None, end: TimeLike | None = None, *,
    every: str | pd.Timedelta | None = None, on_error: str = "raise", cache: bool = False,
    token: str | None = None, base_url: str | None = None, **client_options: Any,
) -> pd.DataFrame:
    """Detection results of a camera's product as a DataFrame, one row per detection.

    The keywords are those of :func:`~intake_webcoos.open_images` that apply to
    results (:mod:`intake_webcoos.cube.selection`).

    Parameters
    ----------
    {parameters}
    on_error : {"raise", "report"}
        An empty file or a malformed line raises :class:`ResultsFormatError`, or
        (``"report"``) is left out and listed in ``frame.attrs["errors"]`` as
        ``(url, message)`` pairs: never dropped silently.

    Returns
    -------
    pandas.DataFrame
        ``time`` (the element's, UTC), ``asset`` (the camera), ``product``, ``url``,
        ``filename``, ``detection`` (index within its record, NA when nothing was
        detected), then the records' flattened fields (a record field named like
        one of the first five gets a ``record_`` prefix, e.g. ``record_time``).
    """
    one_of("on_error", on_error, ("raise", "report"))
    selection = Selection.build("results", camera, product, start, end, every=every,
                                cache=cache, token=token, base_url=base_url,
                                client_options=client_options)
    try:
        elements = selection.listing()[0]
    except EmptyRangeError:
        elements = pd.DataFrame({c: pd.Series(dtype="object") for c in ELEMENT_COLUMNS})
    bodies = fetch_batch(tuple(elements["url"]), selection.client_options,
                         listed_sizes(elements)) if len(elements) else []
    frames, errors = [], []
    for element, body in zip(elements.itertuples(index=False), bodies, strict=True):
        try:
            if isinstance(body, Exception):
                raise body
            frames.append(_element_table(element, parse_records(body, element.url)))
        except (ResultsFormatError, WebcoosError, FileNotFoundError) as exc:
            if on_error == "raise":
                raise
            errors.append((element.url, str(exc)))
    columns = [*ELEMENT_COLUMNS, "detection"]
    frame = (pd.concat(frames, ignore_index=True) if frames
             else pd.DataFrame({c: pd.Series(dtype="object") for c in columns}))
    frame["time"] = pd.to_datetime(frame["time"], utc=True).astype("datetime64[ns, UTC]")
    frame.attrs["errors"] = errors
    return frame


def _element_table(element: Any, records: list[dict[str, Any]]) -> pd.DataFrame:
    """One element's detections, led by the element's own columns."""
    table = detections_frame(records)
    # Fields of the record named like the element's columns keep a prefix.
    table = table.rename(columns={c: f"record_{c}" for c in ELEMENT_COLUMNS
                                  if c in table.columns})
    for column in reversed(ELEMENT_COLUMNS):
        table.insert(0, column, getattr(element, column))
    return table
