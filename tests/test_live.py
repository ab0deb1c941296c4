"""Checks against the real WebCOOS API, for whoever holds a token (``pytest --live``).

Small, polite requests (one camera, one hour of stills, one file) through the
same paths the stand-in tests exercise, and a report, printed at the end of the
run, of which reading of the open questions the real service shows: whether
``starting_before`` is exclusive or inclusive, whether ``page_size`` is capped,
which pagination fields it sends, and how long the inventory takes.  Run with
``WEBCOOS_API_TOKEN`` set; nothing here runs without ``--live``.
"""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest
from yarl import URL

from intake_webcoos import Client, SlowServiceError, open_images
from intake_webcoos.api.bridge import run
from intake_webcoos.api.times import api_time

from .helpers import section

pytestmark = pytest.mark.live
STILLS = "one-minute-stills"
TITLE = "what the real WebCOOS API shows"


@pytest.fixture(scope="module")
def client():
    if not os.environ.get("WEBCOOS_API_TOKEN"):
        pytest.fail("pytest --live needs WEBCOOS_API_TOKEN (your token from app.webcoos.org)")
    with Client(api_rate=2) as c:
        yield c


@pytest.fixture(scope="module")
def camera(client):
    """A camera that is up and has one-minute stills."""
    for asset in client.assets():
        if asset.disposition == "up" and any(p.slug == STILLS and p.s3_services
                                              for p in asset.products):
            return asset.slug
    pytest.fail("no camera that is up has one-minute-stills")


@pytest.fixture(scope="module")
def hour(client, camera):
    """The elements of the last full hour of data before the service's last element."""
    (service,) = client.services(camera, STILLS)
    last = pd.Timestamp(service.stats.last_starting).floor("h") - pd.Timedelta(hours=1)
    frame = client.elements(camera, STILLS, last, last + pd.Timedelta(minutes=59, seconds=59))
    assert len(frame) > 0, f"no stills of {camera} in the hour from {last}"
    return frame


def raw(client, path: str, **params: str):
    """One API answer as it comes (through the client's transport: token and manners)."""
    url = client.settings.root.join(URL(path))
    return run(client.aclient.transport.get_json, url, params)


def test_listing_an_hour_and_reading_a_file(client, camera, hour):
    first = hour.iloc[0]
    data = client.fetch(first["url"])
    assert data[:2] == b"\xff\xd8" and (pd.isna(first["size"]) or len(data) == first["size"])
    cube = open_images(camera, STILLS, first["time"], first["time"], scale=1 / 8)
    assert cube.sizes["time"] == 1 and cube["image"].values.mean() > 0


def test_the_end_rule_of_starting_before(request, client, camera, hour):
    when = hour["time"].iloc[len(hour) // 2]
    (service,) = client.services(camera, STILLS)
    page = raw(client, "elements/", service=service.slug, starting_after=api_time(when),
               starting_before=api_time(when))
    rule = "inclusive" if page["pagination"]["count"] else "exclusive"
    section(request, TITLE).lines.append(f"starting_before is {rule}")
    assert client.elements(camera, STILLS, when, when)["time"].tolist() == [when]


def test_page_size_and_pagination_fields(request, client, camera, hour):
    (service,) = client.services(camera, STILLS)
    start = hour["time"].iloc[0].floor("D")  # a whole UTC day: hundreds of stills
    end = start + pd.Timedelta(days=1)
    page = raw(client, "elements/", service=service.slug, starting_after=api_time(start),
               starting_before=api_time(end), page_size="5000")
    block = page["pagination"]
    lines = section(request, TITLE).lines
    lines.append(f"pagination fields: {sorted(block)}")
    served = len(page["results"])
    lines.append(f"page_size=5000 served {served} of {block['count']} on the first page"
                 + (" (capped)" if served < min(5000, block["count"]) else ""))
    small = raw(client, "elements/", service=service.slug, starting_after=api_time(start),
                starting_before=api_time(end), page_size="10")
    lines.append(f"page_size=10 served {len(small['results'])}; next: {small['pagination']}")
    assert block["count"] >= len(hour)


def test_latest(request, client, camera, hour):
    latest = client.latest(camera, STILLS)
    assert latest.time >= hour["time"].iloc[-1].to_pydatetime()
    section(request, TITLE).lines.append(f"latest of {camera}: {latest.time.isoformat()}")


def test_inventory_latency(request, client, camera):
    started = time.monotonic()
    try:
        inventory = Client(inventory_timeout=600, api_rate=2).inventory(camera, STILLS)
    except SlowServiceError as exc:
        outcome = f"gave up: {exc}"
    else:
        outcome = f"{len(inventory)} daily bins"
        assert inventory["has_data"].any()
    section(request, TITLE).lines.append(
        f"inventory of {camera}: {time.monotonic() - started:.1f} s ({outcome})")
