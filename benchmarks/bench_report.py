"""The HTML report of many servers: how big the page is, how long tlsprobe takes to write it, and how long headless
Chromium takes to load and render it.

    python benchmarks/bench_report.py                    # 10, 100 and 1,000 servers
    python benchmarks/bench_report.py --servers 1000 5000

The servers are real: three local servers are scanned once with the default checks (``bench_store.real_results``),
and each report holds them over and over under other targets (``host00042.example:443``), made as the report
reads them. Chromium (Debian's ``chromium``) loads the page from disk: ``--dump-dom`` returns once the page has
loaded and its script has run, ``--screenshot`` once the first screen is painted; each is timed from the
command's start, and the same command on an empty page is timed too, to tell Chromium's own start from the page.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_store import real_results, rss_mib

from tlsprobe import ServerScanResult, ServerTarget
from tlsprobe._model._json import to_jsonable
from tlsprobe.report import write_html_report

RUNS = 3


def servers(templates: list[ServerScanResult], count: int) -> Iterator[dict[str, Any]]:
    """``count`` servers' JSON forms, each made when asked for."""
    for index in range(count):
        template = templates[index % len(templates)]
        yield to_jsonable(attrs.evolve(template, target=ServerTarget(host=f"host{index:05}.example", port=443)))


def chromium_seconds(binary: str, page: Path, *arguments: str, query: str = "") -> float:
    """The median wall time of ``chromium --headless ARGUMENTS file://page?query`` over ``RUNS`` runs."""
    times = []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory(prefix="tlsprobe-bench-chromium-") as profile:
            command = [
                binary,
                "--headless",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-extensions",
                f"--user-data-dir={profile}",
                *(["--no-sandbox"] if os.geteuid() == 0 else []),
                *arguments,
                page.resolve().as_uri() + query,
            ]
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True, timeout=600)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, nargs="+", default=[10, 100, 1_000])
    options = parser.parse_args()
    binary = shutil.which("chromium")
    if binary is None:
        sys.exit("bench_report: no chromium binary (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="tlsprobe-bench-report-") as temporary:
        directory = Path(temporary)
        templates = real_results(directory / "pki")
        empty = directory / "empty.html"
        empty.write_text("<!DOCTYPE html><title>empty</title>")
        dom_base = chromium_seconds(binary, empty, "--dump-dom")
        shot_base = chromium_seconds(binary, empty, "--window-size=1280,1000", f"--screenshot={directory / 'e.png'}")
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout.strip()
        print(f"{version}; Python {sys.version.split()[0]}; {os.cpu_count()} CPUs; median of {RUNS} runs")
        print(f"empty page: --dump-dom {dom_base:.2f} s, --screenshot {shot_base:.2f} s\n")
        print(
            "| servers | page size | write (tlsprobe) | RSS after | --dump-dom | --screenshot | filtered (?grade=F) |"
        )
        print("|---|---|---|---|---|---|---|")
        for count in options.servers:
            page = directory / f"report-{count}.html"
            started = time.perf_counter()
            write_html_report(
                page,
                servers(templates, count),
                title=f"{count} servers",
                generated_at=datetime.datetime.now(datetime.UTC),
            )
            written = time.perf_counter() - started
            rss = rss_mib()
            dom = chromium_seconds(binary, page, "--dump-dom")
            shot = chromium_seconds(binary, page, "--window-size=1280,1000", f"--screenshot={directory / 's.png'}")
            filtered = chromium_seconds(binary, page, "--dump-dom", query="?grade=F")
            size = page.stat().st_size / 2**20
            print(
                f"| {count:,} | {size:.1f} MiB | {written:.2f} s | {rss:.0f} MiB | {dom:.2f} s | {shot:.2f} s "
                f"| {filtered:.2f} s |"
            )


if __name__ == "__main__":
    main()
