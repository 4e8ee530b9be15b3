"""The class a load benchmark plays against: its shared database, and a training run going meanwhile."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time


def class_database(args, stack: contextlib.ExitStack, data_dir: str) -> str | None:
    """The database every server is given, or None for the one server's own SQLite file."""
    if args.database_url:
        return args.database_url
    if args.postgres:
        from tests import postgres

        return stack.enter_context(postgres.Cluster(durable=True)).create_database()
    if args.servers > 1:
        return f"sqlite:///{data_dir}/class.sqlite"  # servers on one machine can share a SQLite file
    return None


def stored_since(url: str, after_id: int) -> list[tuple[int, str, int, int, bool | None]]:
    """(id, session, label, predicted, flagged) of every drawing stored with id > ``after_id`` (`store.since`)."""
    from digits import store

    db, rows = store.connect(url), []
    try:
        while batch := store.since(db, rows[-1][0] if rows else after_id):
            rows += batch
    finally:
        db.close()
    return rows


def totals_drift(url: str) -> list[str]:
    """Where the store's running totals differ from a recount of its rows (empty: exact), one line each.

    The totals are left recounted.
    """
    import sqlalchemy as sa

    from digits import store

    db = store.connect(url)
    try:
        with db.engine.connect() as conn:
            models = conn.execute(sa.select(store.reading_counts.c.model).distinct()).scalars().all()

        def answers() -> dict:
            whole = store.answers_since(db, 0)  # the Class page's count of every drawing: from the totals
            out = {"every drawing's fingerprint": store.fingerprint(db, 0, whole.last_id),  # and the sums of ids
                   "the Class page's whole term": whole.counts}
            with db.engine.connect() as conn:  # and its students: each session's drawings and newest id
                out["each session's drawings"] = sorted(conn.execute(sa.select(store.session_counts)).all())
            for model in models:
                s = store.summary(db, model)
                out[model] = (s.drawings, s.not_digits, s.naive_read, s.naive_right, s.confusion.tolist(),
                              store.count_unread(db, model))
            return out

        kept = answers()
        store.recount(db)
        counted = answers()
    finally:
        db.close()
    return [f"running totals for {m}: {kept[m]} kept, {counted[m]} counted" for m in kept if kept[m] != counted[m]]


@contextlib.contextmanager
def training_run(arch: str, data_dir: str):
    """A run of ``arch``'s full recipe going in the background, as the Training page starts one."""
    from pathlib import Path

    from digits import config, runs

    mnist = config.ROOT / "data" / "mnist"
    if not mnist.is_dir():
        sys.exit(f"--training needs MNIST in {mnist}: run `python -c 'import digits.data as d; d.load_mnist()'` first")
    (Path(data_dir) / "mnist").symlink_to(mnist)  # the run's DIGITS_DATA_DIR is the class's temporary one
    models = tempfile.mkdtemp(prefix="digits-load-models-")
    config.DATA_DIR, config.RUNS_DIR, config.MODEL_DIR = Path(data_dir), Path(data_dir) / "runs", Path(models)
    os.environ["DIGITS_DATA_DIR"] = data_dir
    runs.start(arch, "full", runs.free_name(arch, "full"))
    try:
        deadline = time.monotonic() + 600
        while not (status := runs.status()).epochs and status.state == "running":  # past loading and compiling
            if time.monotonic() > deadline:
                sys.exit("the training run did not finish an epoch in 10 minutes")
            time.sleep(2)
        if status.state != "running":
            sys.exit(f"the training run ended before the class drew: {status.state}\n{runs.log_tail()}")
        yield status
        if runs.status().state != "running":
            print(f"  note: the training run ended while the class drew ({runs.status().state})")
    finally:
        runs.stop()


def runs_status_epochs() -> list:
    from digits import runs

    return runs.status().epochs
