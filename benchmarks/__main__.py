"""``python -m benchmarks [--quick] [--output DIR]``: run every case and write the results."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from . import cases, pixels
from .bursts import bursts
from .cases import FULL, QUICK, Results, Sizes, timestamp
from .harness import Server, machine
from .rectifying import rectifying


def run_all(sizes: Sizes) -> Results:
    # Every case measures the API and the files, not a cache left by an earlier run;
    # the cache case turns it on for itself.
    os.environ["WEBCOOS_CACHE"] = "off"
    results = Results()
    server = Server.start(span_days=sizes.span_days, width=sizes.frame_size[0],
                          height=sizes.frame_size[1], api_latency=0.05, files_latency=0.02)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            rate = cases.parsing(server, sizes, results)
            cases.listing(server, sizes, results, rate)
            cases.wide_span(server, sizes, results)
            cases.cached_listing(server, sizes, results)
            cases.downloading(server, sizes, results, workdir)
            pixels.decoding(server, sizes, results, workdir)
            pixels.products(server, sizes, results)
            pixels.day_of_products(server, sizes, results)
            pixels.memory(server, sizes, results)
            pixels.camera_stills(server, sizes, results)
            pixels.graph(server, sizes, results)
            rectifying(server, sizes, results)
        pixels.cli_start(results)
    finally:
        server.stop()
    bursts(results, quick=sizes is QUICK)  # stand-ins of its own, serving real-size clips
    return results


def write(results: Results, folder: Path, quick: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    about = machine()
    (folder / "results.json").write_text(json.dumps({
        "when": timestamp(), "quick": quick, "machine": about,
        "rows": [asdict(r) for r in results.rows],
        "targets": [{"target": t, "measured": d, "met": m} for t, d, m in results.targets],
    }, indent=1))
    lines = [
        "# Benchmarks", "",
        f"Run {timestamp()}{' (quick mode: tiny sizes, not for comparison)' if quick else ''}, "
        "with `python -m benchmarks`. The stand-in WebCOOS server runs in its own process on "
        "127.0.0.1 with 50 ms added to every API answer and 20 ms to first byte on the file "
        "origin; every case runs ours and its peers side by side in one run (median of the "
        "repetitions). The peers are described in `benchmarks/peers.py`.", "",
        "| case | measure | value | unit |", "|---|---|---|---|",
        *(f"| {r.case} | {r.measure} | {r.value:,.3f} | {r.unit} |" for r in results.rows),
        "", "## Targets", "", "| target | measured | met |", "|---|---|---|",
        *(f"| {t} | {d} | {'yes' if m else 'NO'} |" for t, d, m in results.targets),
        "", "## Machine", "",
        f"* CPU: {about['cpu']} ({about['cores']} cores), memory {about['memory_gib']} GiB",
        f"* Python {about['python']} on {about['platform']}",
        "* " + ", ".join(f"{k} {v}" for k, v in about["packages"].items()), "",
    ]
    (folder / "RESULTS.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (checks the harness)")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent,
                        help="folder for RESULTS.md and results.json")
    args = parser.parse_args(argv)
    results = run_all(QUICK if args.quick else FULL)
    write(results, args.output, args.quick)
    for t, d, m in results.targets:
        print(f"{'met ' if m else 'MISS'} {t}: {d}")
    print(f"written to {args.output / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
