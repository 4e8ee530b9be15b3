"""A drawings database at real size for benchmarks: N drawings shaped like real ones, inserted fast."""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from digits import config, store

MODEL = "strong"
# Shares as a class's drawings have them: labelled not a digit (letters, smileys, scribbles), of those
# flagged by the reader, and of digits wrongly flagged.
NOT_A_DIGIT, CAUGHT, FALSE_FLAG = 0.03, 0.9, 0.01


def sample_pngs(rng: np.random.Generator, count: int = 16) -> list[bytes]:
    """Canvas PNGs of a few random strokes on the app's 320x320 canvas (about 3 KB each, like drawn ones)."""
    from skimage.draw import disk, line

    pngs = []
    for _ in range(count):
        alpha = np.zeros((320, 320), np.uint8)
        points = rng.integers(60, 260, (4, 2))
        for (r0, c0), (r1, c1) in zip(points, points[1:]):
            for r, c in zip(*line(r0, c0, r1, c1)):
                alpha[disk((r, c), 11, shape=alpha.shape)] = 255
        rgba = np.zeros((320, 320, 4), np.uint8)
        rgba[..., 3] = alpha
        pngs.append(store.encode_canvas(rgba))
    return pngs


def fill(db: store.Store, n: int, seed: int = 0, chunk: int = 2000, per_session: int = 40) -> None:
    """N drawings (3 % labelled not a digit), ``per_session`` to a session, and their readings by MODEL, a chunk per
    transaction (executemany)."""
    rng = np.random.default_rng(seed)
    pngs = sample_pngs(rng)
    eye = np.eye(10, dtype=np.float32)
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        ink = rng.random((size, 28, 28), dtype=np.float32)
        images = np.where(rng.random((size, 28, 28)) < 0.2, ink, 0).astype(np.float32)  # ~20 % ink, like MNIST
        labels = rng.integers(0, 10, size)  # the digit the reader names, for a non-digit too
        odd = rng.random(size) < NOT_A_DIGIT
        flagged = rng.random(size) < np.where(odd, CAUGHT, FALSE_FLAG)
        predicted = np.where(rng.random(size) < 0.02, (labels + rng.integers(1, 10, size)) % 10, labels)
        squeezed = rng.random(size) < 0.5
        naive = np.where(rng.random(size) < 0.3, (labels + 1) % 10, labels)
        rows = [dict(id=start + k + 1, created=1.7e9 + start + k, session=f"s{(start + k) // per_session}", model=MODEL,
                     label=config.NOT_A_DIGIT if odd[k] else int(labels[k]), flagged=bool(flagged[k]),
                     predicted=int(predicted[k]), probs=eye[predicted[k]].tobytes(),
                     image=images[k].tobytes(), canvas_png=pngs[k % len(pngs)],
                     squeezed=images[k].tobytes() if squeezed[k] else None) for k in range(size)]
        readings = [dict(model=MODEL, drawing_id=r["id"], label=r["label"], predicted=r["predicted"], probs=r["probs"],
                         naive_predicted=int(naive[k]) if squeezed[k] else None) for k, r in enumerate(rows)]
        with db.engine.begin() as conn:
            conn.execute(store.drawings.insert(), rows)
            conn.execute(store.readings.insert(), readings)
    store.recount(db)  # the rows went in beside the store's writes: its running totals are counted once, here
    if db.engine.dialect.name == "postgresql":  # explicit ids above: move the id sequence past them
        with db.engine.begin() as conn:
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('drawings', 'id'), :n)"), {"n": n})
