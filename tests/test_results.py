"""Detection results (cube/results.py): the stand-in's JSON files and ``read_results``' tables."""

from __future__ import annotations

import pytest

from intake_webcoos import read_results
from intake_webcoos.cube.results import parse_records
from intake_webcoos.errors import InvalidArgumentError, ResultsFormatError

from .helpers import TOKEN, damaged_standin, http, size_of, time_of, url_of


def test_results_files_follow_the_detection_services(standin):
    element = standin.elements("walton_lighthouse", "rip-detection-results", "2025-09-10",
                               "2025-09-11")[0]
    body = http(url_of(element))
    assert len(body.body) == size_of(element)
    (record,) = parse_records(body.body, "u")
    assert set(record) == {"time", "annotated_image_url", "original_image_reference",
                           "classification_result"}
    assert record["time"] == time_of(element)
    result = record["classification_result"]
    assert result["detection_count"] == len(result["classification_scores"]) == \
        len(result["classification_bboxes"])


@pytest.mark.parametrize("asset,product", [("walton_lighthouse", "rip-detection-results"),
                                           ("currituck_hampton_inn", "object-detection-results")])
def test_read_results_rows_match_the_files(standin, asset, product):
    frame = read_results(asset, product, "2025-09-10", "2025-09-10T23:59:59", token=TOKEN,
                         base_url=standin.api_url)
    elements = standin.elements(asset, product, "2025-09-10", "2025-09-10T23:59:59")
    assert frame["url"].nunique() == len(elements) > 5
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"
    for element in elements:
        url = url_of(element)
        (record,) = parse_records(standin.file_bytes(url), url)
        rows = frame[frame["url"] == url]
        count = record["classification_result"]["detection_count"]
        assert len(rows) == max(count, 1)
        if count == 0:
            assert rows["detection"].isna().all()
            assert not rows["classification_result.detected"].iloc[0]
        for i, scores in enumerate(record["classification_result"]["classification_scores"]):
            (name, score), = scores.items()
            assert rows.iloc[i][f"classification_result.classification_scores.{name}"] == score


def test_results_errors_are_raised_or_reported():
    day = ("2025-09-10", "2025-09-10T23:59:59")
    with damaged_standin("walton_lighthouse", "rip-detection-results", day, 2,
                         frame_size=(32, 24)) as (s, urls):
        bad = urls[2]
        with pytest.raises(ResultsFormatError, match="line 1") as info:
            read_results("walton_lighthouse", "rip-detection-results", "2025-09-10",
                         "2025-09-10T23:59:59", token=TOKEN, base_url=s.api_url)
        assert bad in str(info.value)
        frame = read_results("walton_lighthouse", "rip-detection-results", "2025-09-10",
                             "2025-09-10T23:59:59", on_error="report", token=TOKEN,
                             base_url=s.api_url)
        assert [url for url, _ in frame.attrs["errors"]] == [bad]
        assert frame["url"].nunique() == len(urls) - 1 and bad not in set(frame["url"])
    with pytest.raises(ResultsFormatError, match="empty"):
        parse_records(b"  \n", "http://x/empty.json")
    lines = parse_records(b'{"a": 1}\n\n{"a": 2}\n', "u")
    assert [r["a"] for r in lines] == [1, 2]
    with pytest.raises(ResultsFormatError, match="line 2"):
        parse_records(b'{"a": 1}\n[1, 2]\n', "u")
    with pytest.raises(ResultsFormatError, match="line 1: not JSON") as info:
        parse_records(b'{"a": \n', "u")
    assert isinstance(info.value.__cause__, ValueError)  # the parser's own account
    with pytest.raises(InvalidArgumentError, match="'raise' or 'report', not 'skip'"):
        read_results("walton_lighthouse", "rip-detection-results", "2025-09-10",
                     "2025-09-10T23:59:59", on_error="skip", token=TOKEN)
