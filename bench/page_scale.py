"""My drawings and Class with N drawings stored: a page costs what it shows, not what is stored.

    python -m bench.page_scale [--rows 1000 100000] [--repeat 3]

For each size, fills a fresh SQLite database (support/fill.py: drawings shaped
like real ones, with the default model's readings) and renders each page with
streamlit.testing, as a visit would, then runs it again in the same session (the
Class tally's refresh): prints median times and the growth of the process's peak memory, so sizes can be compared in one run.
Then re-reads every drawing with another model once (the one step that grows
with the drawings) and prints its time per 1,000 drawings.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from streamlit.testing.v1 import AppTest

from digits import config, store
from support.fill import fill

PAGES = ["my_drawings", "classroom"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def render(page: str) -> tuple[float, float]:
    """Seconds for one visit to ``page`` (a fresh session), and for the same session's next run."""
    import streamlit as st

    st.cache_data.clear()
    at = AppTest.from_file(str(config.ROOT / "pages" / f"{page}.py"), default_timeout=900)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].message}")
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 100_000], help="sizes (default: 1000 100000)")
    parser.add_argument("--repeat", type=int, default=3, help="visits per page and size (default: 3)")
    parser.add_argument("--reread", default="seed", help="model that reads every drawing once (default: seed)")
    args = parser.parse_args()
    import streamlit as st

    render("my_drawings")  # load TensorFlow, Streamlit and the model before measuring memory
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as folder:
            config.DATA_DIR = Path(folder)
            st.cache_resource.clear()
            db = store.connect(Path(folder) / "drawings.sqlite")
            start = time.perf_counter()
            fill(db, rows)
            print(f"{rows:,} drawings stored in {time.perf_counter() - start:.0f} s")
            for page in PAGES:
                before = peak_mb()
                visits, reruns = zip(*[render(page) for _ in range(args.repeat)])
                print(f"  {page:<12} first visit {statistics.median(visits) * 1000:6.0f} ms, next run "
                      f"{statistics.median(reruns) * 1000:6.0f} ms (medians of {args.repeat}); "
                      f"peak memory +{peak_mb() - before:.0f} MB")
            from digits.inference import load_classifier
            from digits.ui import freeze_long_lived

            classifier = load_classifier(config.MODEL_DIR / args.reread)
            # As the app's ui.classifier does: unfrozen, TensorFlow's objects made every later rerun's
            # full collection cost 230 ms here, and the next size's pages measured that, not themselves.
            freeze_long_lived()
            before, start = peak_mb(), time.perf_counter()
            done = store.read_all(db, args.reread, classifier.predict_proba)
            elapsed = time.perf_counter() - start
            print(f"  every drawing read once by {args.reread}: {done:,} in {elapsed:.1f} s "
                  f"({elapsed / done * 1000 * 1000:.0f} ms per 1,000); peak memory +{peak_mb() - before:.0f} MB")
            db.engine.dispose()


if __name__ == "__main__":
    main()
