"""Drawings with known contents for the store's tests."""

import numpy as np
import sqlalchemy as sa

from digits import store

EYE = np.eye(10, dtype=np.float32)


def drawing(seed: int = 0, **changes) -> dict:
    rng = np.random.default_rng(seed)
    probs = rng.random(10, dtype=np.float32)
    return {**dict(image=rng.random((28, 28), dtype=np.float32), canvas_png=b"\x89PNG fake " + bytes([seed % 256]),
                   probs=probs / probs.sum(), label=seed % 10, model="strong", session=f"s{seed}"), **changes}


def table_rows(db: store.Store, table: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def vm_steps(db: store.Store, call) -> int:
    """SQLite virtual machine steps (in hundreds) that ``call`` runs: its work, whatever the machine's speed."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    def hook(dbapi_connection, record, proxy) -> None:
        dbapi_connection.set_progress_handler(count, 100)

    sa.event.listen(db.engine, "checkout", hook)
    try:
        call()
    finally:
        sa.event.remove(db.engine, "checkout", hook)
    return steps[0]
