"""The results store under a stream: N results written through ``store_sink`` as a scan would, then read back.

    python benchmarks/bench_store.py                     # 10,000 results into SQLite
    python benchmarks/bench_store.py --postgresql        # and into a PostgreSQL started for the run

The documents are real: three local servers (Python ``ssl``: TLS 1.2 and 1.3 with RSA; TLS 1.2 only with ECDSA;
TLS 1.0 to 1.2 at ``@SECLEVEL=0``) are scanned once with the default checks, and each result written is one of
them with another target (``host00042.example:443``), made when it is written, so that nothing but the sink holds
results. Prints the write rate, the process's RSS after 1,000, 5,000 and 10,000 results (flat memory is the
point), the database's size, and the rates of reading the scan back as summaries and as JSON documents.
"""

from __future__ import annotations

import argparse
import datetime
import os
import ssl
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import anyio
import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers.postgres import postgres_server

from tlsprobe import Scanner, ServerScanResult, ServerTarget
from tlsprobe.store import ResultStore, open_store, store_sink
from tlsprobe.testing import LocalTLSServer, generate_test_pki

CHECKPOINTS = (1_000, 5_000, 10_000)


def rss_mib() -> float:
    """The process's resident set size now (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def real_results(directory: Path) -> list[ServerScanResult]:
    """Default scans of three local servers."""
    pki = generate_test_pki(directory)
    with ExitStack() as stack:
        servers = [
            LocalTLSServer(certfile=pki.rsa_chain, keyfile=pki.rsa_key),
            LocalTLSServer(
                certfile=pki.ecdsa_chain,
                keyfile=pki.ecdsa_key,
                maximum_version=ssl.TLSVersion.TLSv1_2,
                http_response=False,
            ),
            LocalTLSServer(
                certfile=pki.rsa_chain,
                keyfile=pki.rsa_key,
                minimum_version=ssl.TLSVersion.TLSv1,
                maximum_version=ssl.TLSVersion.TLSv1_2,
                ciphers="DEFAULT:@SECLEVEL=0",
            ),
        ]
        for server in servers:
            stack.enter_context(server)

        async def scan() -> list[ServerScanResult]:
            async with Scanner().scan([f"127.0.0.1:{server.port}" for server in servers]) as results:
                return [result async for result in results]

        return anyio.run(scan)


def stream(templates: list[ServerScanResult], count: int) -> Iterator[ServerScanResult]:
    """``count`` results, each made when asked for."""
    for index in range(count):
        template = templates[index % len(templates)]
        yield attrs.evolve(template, target=ServerTarget(host=f"host{index:05}.example", port=443))


def measure(store: ResultStore, templates: list[ServerScanResult], count: int, size: Path | None) -> list[str]:
    """Write ``count`` results through the sink, read them back; markdown table rows."""
    scan_id = store.begin_scan(list_key="bench", started_at=datetime.datetime.now(datetime.UTC), target_count=count)
    marks: list[tuple[int, float, float]] = []

    async def write() -> float:
        started = time.perf_counter()
        async with store_sink(store, scan_id) as sink:
            for written, result in enumerate(stream(templates, count), start=1):
                await sink.write(result)
                if written in CHECKPOINTS:
                    marks.append((written, time.perf_counter() - started, rss_mib()))
        return time.perf_counter() - started

    elapsed = anyio.run(write)
    store.finish_scan(scan_id, completed_at=datetime.datetime.now(datetime.UTC))
    rows = [f"| {written:,} results written | {seconds:.1f} s | {mib:.1f} MiB |" for written, seconds, mib in marks]
    rate = f"{elapsed:.1f} s: {count / elapsed:,.0f} results/s"
    rows.append(f"| all {count:,}, last commit included | {rate} | {rss_mib():.1f} MiB |")

    started = time.perf_counter()
    summaries = sum(1 for _ in store.summaries(scan_id))
    read_summaries = time.perf_counter() - started
    started = time.perf_counter()
    documents = sum(len(server["checks"]) > 0 for server in store.servers(scan_id))
    read_documents = time.perf_counter() - started
    assert summaries == documents == count
    for what, seconds in (("summaries", read_summaries), ("JSON documents", read_documents)):
        rows.append(f"| read back: {what} | {seconds:.1f} s: {count / seconds:,.0f}/s | {rss_mib():.1f} MiB |")
    if size is not None:
        total = sum(path.stat().st_size for path in size.parent.glob(size.name + "*"))
        rows.append(f"| database file (with WAL) | {total / 2**20:.0f} MiB | |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=10_000)
    parser.add_argument("--postgresql", action="store_true", help="also into a PostgreSQL started for the run")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tlsprobe-bench-store-") as temporary:
        directory = Path(temporary)
        templates = real_results(directory / "pki")
        sizes = [len(attrs.asdict(template, recurse=False)["checks"]) for template in templates]
        print(f"templates: {len(templates)} real results ({sizes} checks each); RSS before {rss_mib():.1f} MiB")
        print(f"Python {sys.version.split()[0]}, SQLite {__import__('sqlite3').sqlite_version}, {os.cpu_count()} CPUs")
        path = directory / "results.sqlite"
        with open_store(str(path)) as store:
            print("\n### SQLite\n\n| | time | RSS |\n|---|---|---|")
            print("\n".join(measure(store, templates, options.results, path)))
        if options.postgresql:
            with postgres_server() as server, open_store(server.url(server.new_database())) as store:
                print("\n### PostgreSQL\n\n| | time | RSS |\n|---|---|---|")
                print("\n".join(measure(store, templates, options.results, None)))


if __name__ == "__main__":
    main()
