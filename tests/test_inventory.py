"""Service inventories (api/inventory.py): 7- and 5-column payloads, bins, wrong shapes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from intake_webcoos.api.inventory import InventoryBin, parse_inventory
from intake_webcoos.api.models import Service
from intake_webcoos.errors import ResponseFormatError

from .helpers import (
    INVENTORY_7COL,
    INVENTORY_HAMPTON_5COL,
    INVENTORY_SAILFISH_5COL,
    RAW_STAGE_SERVICES,
    utc,
)

# ------------------------------------------------------------ inventory


def test_inventory_7col() -> None:
    inventory = parse_inventory(INVENTORY_7COL)
    assert list(inventory) == ["daily", "weekly", "monthly"]
    assert inventory["daily"] == (
        InventoryBin(
            starting=utc(2022, 6, 2),
            ending=utc(2022, 6, 3),
            has_data=True,
            count=3,
            size=1453882,
            data_starting=utc(2022, 6, 2, 18, 37, 59),
            data_ending=utc(2022, 6, 2, 18, 39, 59),
        ),
        InventoryBin(
            starting=utc(2022, 6, 3),
            ending=utc(2022, 6, 4),
            has_data=True,
            count=4,
            size=1061838,
            data_starting=utc(2022, 6, 3, 14, 50, 30),
            data_ending=utc(2022, 6, 3, 16, 28, 32),
        ),
    )
    (week,) = inventory["weekly"]
    assert week.starting == utc(2022, 5, 29) and week.starting.weekday() == 6  # Sunday
    assert (week.count, week.size) == (7, 2515720)
    (month,) = inventory["monthly"]
    assert (month.starting, month.ending) == (utc(2022, 6, 1), utc(2022, 6, 30))
    assert month.data_ending == utc(2022, 6, 3, 16, 28, 32)


def test_inventory_5col_hampton_inn() -> None:
    inventory = parse_inventory({"results": INVENTORY_HAMPTON_5COL})
    daily = inventory["daily"]
    assert len(daily) == 36
    assert all(b.data_starting is None and b.data_ending is None for b in daily)
    assert all(type(b.has_data) is bool for b in daily)
    assert [b.count for b in daily if b.has_data] == [332, 1308]
    assert all(b.count == 0 and b.size == 0 for b in daily if not b.has_data)
    assert daily[0].has_data is True and daily[1].has_data is False
    assert daily[-1] == InventoryBin(utc(2022, 5, 8), utc(2022, 5, 9), True, 1308, 417307781)
    assert sum(b.count for b in inventory["weekly"]) == 1640
    assert [b.ending for b in inventory["monthly"]] == [utc(2022, 4, 30), utc(2022, 5, 31)]


def test_inventory_5col_sailfish_matches_service_stats() -> None:
    # the 2022 stage service stats and this inventory describe the same video archive
    daily = parse_inventory(INVENTORY_SAILFISH_5COL)["daily"]
    video = Service.from_json(RAW_STAGE_SERVICES[1])
    assert video.uuid == "1d130de0-f99b-436d-b96a-c3929904b335"
    assert sum(b.count for b in daily) == video.stats.count == 14
    assert sum(b.size for b in daily) == video.stats.size
    assert daily[0].starting == utc(2022, 2, 3)
    assert daily[-1].starting.date() == video.stats.last_starting.date()
    assert sum(b.has_data for b in daily) == 2


def _northinlet_daily_with(*rows: list[Any]) -> list[dict[str, Any]]:
    daily = copy.deepcopy(INVENTORY_7COL[0])
    daily["values"].extend(rows)
    return [daily]


def test_inventory_nat_and_blank_bounds_are_none() -> None:
    rows = [
        ["2022-06-04 00:00:00+00:00", 0, "2022-06-05 00:00:00+00:00", 0, 0, "NaT", "NaT"],
        ["2022-06-05 00:00:00+00:00", 0, "2022-06-06 00:00:00+00:00", 0, 0, None, ""],
    ]
    daily = parse_inventory(_northinlet_daily_with(*rows))["daily"]
    assert len(daily) == 4
    for empty in daily[2:]:
        assert empty.has_data is False
        assert empty.data_starting is None and empty.data_ending is None
    assert daily[1].data_starting is not None


@pytest.mark.parametrize(
    ("flag", "expected"),
    [(1, True), (0, False), (True, True), (False, False), ("true", True), ("0", False)],
)
def test_inventory_has_data_flags(flag: Any, expected: bool) -> None:
    row = ["2022-06-04 00:00:00+00:00", flag, "2022-06-05 00:00:00+00:00", 1, 10, "NaT", "NaT"]
    assert parse_inventory(_northinlet_daily_with(row))["daily"][-1].has_data is expected


def test_inventory_iso_t_and_z_times() -> None:
    row = ["2022-06-04T00:00:00Z", 1, "2022-06-05T00:00:00Z", 1, 10, "2022-06-04T12:00:00Z", "NaT"]
    last = parse_inventory(_northinlet_daily_with(row))["daily"][-1]
    assert (last.starting, last.ending, last.data_starting) == (
        utc(2022, 6, 4),
        utc(2022, 6, 5),
        utc(2022, 6, 4, 12),
    )


def test_inventory_columns_found_by_name_not_position() -> None:
    original = parse_inventory(INVENTORY_7COL)
    shuffled = copy.deepcopy(INVENTORY_7COL)
    order = [6, 4, 2, 0, 1, 3, 5]
    for result in shuffled:
        result["meta"]["fields"] = [result["meta"]["fields"][i] for i in order]
        result["values"] = [[row[i] for i in order] for row in result["values"]]
    assert parse_inventory(shuffled) == original


@pytest.mark.parametrize("payload", [[], {"results": []}, {"results": None}])
def test_inventory_empty_results(payload: Any) -> None:
    assert parse_inventory(payload) == {}


def test_inventory_empty_values() -> None:
    empty = copy.deepcopy(INVENTORY_7COL)
    empty[0]["values"] = []
    del empty[1]["values"]
    inventory = parse_inventory(empty)
    assert inventory["daily"] == () and inventory["weekly"] == ()
    assert len(inventory["monthly"]) == 1


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda inv: inv[0]["values"][0].pop(), "[0].values[0]"),
        (lambda inv: inv[0]["meta"]["fields"].pop(2), "[0].values[0]"),  # columns no longer fit
        (lambda inv: inv[0].pop("meta"), "[0].meta"),
        (lambda inv: inv[0].__setitem__("name", None), "[0].name"),
        (lambda inv: inv[1].__setitem__("name", "daily"), "[1].name"),
        (lambda inv: inv[0]["values"][1].__setitem__(3, "four"), "[0].values[1].count"),
        (lambda inv: inv[0]["values"][1].__setitem__(1, 2), "[0].values[1].has_data"),
        (lambda inv: inv[0]["values"][1].__setitem__(0, "NaT"), "[0].values[1].starting"),
        (lambda inv: inv[0]["values"][1].__setitem__(5, "dawn"), "[0].values[1].data_starting"),
        (lambda inv: inv[0]["values"].__setitem__(0, "row"), "[0].values[0]"),
        (lambda inv: inv.__setitem__(2, "monthly"), "[2]"),
    ],
)
def test_inventory_wrong_shape_names_the_field(mutate: Any, field: str) -> None:
    inventory = copy.deepcopy(INVENTORY_7COL)
    mutate(inventory)
    with pytest.raises(ResponseFormatError) as info:
        parse_inventory(inventory)
    assert f"'{field}'" in str(info.value)


def test_inventory_missing_required_column_is_named() -> None:
    inventory = copy.deepcopy(INVENTORY_HAMPTON_5COL)
    del inventory[0]["meta"]["fields"][2]  # "ending"
    inventory[0]["values"] = [row[:2] + row[3:] for row in inventory[0]["values"]]
    with pytest.raises(ResponseFormatError, match=r"'\[0\]\.values\[0\]\.ending'"):
        parse_inventory(inventory)


@pytest.mark.parametrize("payload", ["daily", 3, None, {"results": {"daily": []}}])
def test_inventory_payload_of_wrong_shape(payload: Any) -> None:
    with pytest.raises(ResponseFormatError):
        parse_inventory(payload)
