"""The drawings store at classroom-years size: what each page's query costs with N rows stored.

    python -m bench.store_scale [--rows 100000] [--url URL | --postgres] [--repeat 5]

Fills a fresh database (a temporary SQLite file by default; ``--postgres``
starts a throwaway PostgreSQL server, ``--url`` uses yours) with N drawings
shaped like real ones (sparse 28x28 inputs, ~3 KB canvas PNGs, about 2 % read
wrong, 3 % labelled not a digit), then prints the median time of each query a page makes and of
the writes a class makes (a label click, a relabel: each keeps the store's running totals), next
to a single-row SELECT in the same run, and, for contrast, the old way: loading every row.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from digits import store
from digits.store import Scope
from support.fill import MODEL, fill


def analyze(db: store.Store) -> None:
    """On PostgreSQL, what autovacuum does within a minute of a bulk insert on a live server.

    Without statistics its planner guesses: 4.2 s instead of 21 ms for a page of
    a rare confusion cell, measured right after the fill.
    """
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def median_ms(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def peak_growth_mib(call) -> tuple[float, float]:
    """(seconds, growth of the peak resident memory in MiB) of one call."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current size (Linux)
    before = rss_kib("VmRSS")
    start = time.perf_counter()
    call()
    seconds = time.perf_counter() - start
    return seconds, (rss_kib("VmHWM") - before) / 1024


def fake_predict(images: np.ndarray) -> np.ndarray:
    """A stand-in classifier costing next to nothing: the class is the brightest pixel's column, modulo 10."""
    return np.eye(10, dtype=np.float32)[images.reshape(len(images), -1).argmax(axis=1) % 28 % 10]


def every_row_since(db: store.Store, after_id: int) -> int:
    """How the Class page counted a term before schema version 6: every row read, 5,000 at a time."""
    count = 0
    while rows := store.since(db, after_id, limit=5000):
        count, after_id = count + len(rows), rows[-1][0]
    return count


def run(db: store.Store, n: int, repeat: int) -> None:
    start = time.perf_counter()
    fill(db, n)
    analyze(db)
    print(f"{db}: filled {n:,} drawings in {time.perf_counter() - start:.0f} s")

    def one_row():
        with db.engine.connect() as conn:
            conn.execute(sa.select(store.drawings.c.label).where(store.drawings.c.id == n // 2)).one()

    deep = store.page(db, MODEL, before_id=1000)
    assert len(deep.rows) == 24
    timings = {
        "one-row SELECT (baseline)": lambda: one_row(),
        "summary, whole class": lambda: store.summary(db, MODEL),
        "summary, one session": lambda: store.summary(db, MODEL, Scope(session="s100")),
        "summary, lesson (last 30)": lambda: store.summary(db, MODEL, Scope(after_id=n - 30)),
        "page, newest 24": lambda: store.page(db, MODEL),
        "page, deep (before id 1000)": lambda: store.page(db, MODEL, before_id=1000),
        "page, wrong ones": lambda: store.page(db, MODEL, wrong=True),
        "page, cell 3 -> 5": lambda: store.page(db, MODEL, label=3, predicted=5),
        "page, naive lost": lambda: store.page(db, MODEL, naive_lost=True),
        "page, one session": lambda: store.page(db, MODEL, Scope(session="s100")),
        "page of 50, the delete list": lambda: store.page(db, MODEL, limit=50),
        "since(N - 30)": lambda: store.since(db, n - 30),
        "fingerprint, lesson of 1,500": lambda: store.fingerprint(db, n - 1500, n),
        "fingerprint, every drawing": lambda: store.fingerprint(db, 0, n),
        "Class count, lesson of 1,500": lambda: store.answers_since(db, n - 1500),
        "Class count, every drawing": lambda: store.answers_since(db, 0),
        "Class count, rows one by one": lambda: every_row_since(db, 0),
        "count_unread": lambda: store.count_unread(db, MODEL),
    }
    # The writes a class makes, each in its own transaction: a label click, a relabel.
    image = np.zeros((28, 28), np.float32)
    pngs = iter(range(10**6))
    timings["add one drawing (a label click)"] = lambda: store.add(
        db, image=image, canvas_png=bytes([next(pngs) % 256]), probs=np.eye(10)[3], label=3, model=MODEL,
        session="bench", flagged=False)
    timings["relabel one drawing"] = lambda: store.relabel(db, n // 2, next(pngs) % 11, session=None)
    results = {name: median_ms(call, repeat) for name, call in timings.items()}
    base = results["one-row SELECT (baseline)"]
    print(f"\nmedian of {repeat} (ms; x = times the one-row SELECT)")
    for name, ms in results.items():
        print(f"  {name:30s} {ms:9.2f} ms  {ms / base:8.1f} x")

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "drawings.npz"
        seconds, growth = peak_growth_mib(lambda: store.export_npz(db, out))
        print(f"\nexport_npz of {n:,}: {seconds:.1f} s, {out.stat().st_size / 2**20:.1f} MiB file, "
              f"peak memory +{growth:.0f} MiB (the images alone are {n * 784 / 2**20:.0f} MiB as uint8)")

    seconds, growth = peak_growth_mib(lambda: store.read_all(db, "new model", fake_predict))
    print(f"read_all, a new model over {n:,}: {seconds:.1f} s = {1e6 * seconds / n:.0f} ms per 1,000 rows, "
          f"peak memory +{growth:.0f} MiB")
    results["summary, new model"] = median_ms(lambda: store.summary(db, "new model"), repeat)
    print(f"summary for it afterwards: {results['summary, new model']:.1f} ms")

    seconds, growth = peak_growth_mib(lambda: store.load(db))
    print(f"\nthe old way, load() of every row once: {seconds:.1f} s, peak memory +{growth:.0f} MiB "
          f"({1000 * seconds / results['summary, whole class']:.0f} x the whole-class summary)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="drawings to store (default: 100000)")
    parser.add_argument("--url", help="an empty database to fill (default: a temporary SQLite file)")
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL server (default: off)")
    parser.add_argument("--repeat", type=int, default=5, help="timings per query, the median is shown (default: 5)")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        if args.postgres:
            from tests.postgres import Cluster

            cluster = stack.enter_context(Cluster(durable=True))  # fsync on, as a real server runs
            url = cluster.create_database()
        else:
            url = args.url or str(Path(stack.enter_context(tempfile.TemporaryDirectory())) / "drawings.sqlite")
        db = store.connect(url)
        stack.callback(db.close)
        run(db, args.rows, args.repeat)


if __name__ == "__main__":
    main()
