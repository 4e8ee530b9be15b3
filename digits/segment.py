"""Split a canvas's ink into the digits written side by side, left to right.

Connected pieces of ink are the starting point. Pieces that overlap in
columns belong to one digit (a 5's top bar, a 4's stem drawn apart), and
specks join the digit nearest to them. A piece much wider than a digit is
two touching digits: it is cut at the column where least ink runs. Every
function here is pure.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from digits.preprocess import INK_THRESHOLD

# Two pieces are one digit when their columns overlap by this share of the narrower one.
SAME_DIGIT_OVERLAP = 0.5
# Pieces shorter than this share of the ink's height are specks: they join the nearest digit.
SPECK = 0.25
# A piece wider than this many times its height is two or more digits touching.
TOUCHING_WIDTH = 1.25
# Ink in more pieces than this is not a row of digits (noise, speckle): it is read whole.
MAX_PIECES = 40
# Cuts are looked for between this share of the width from either end.
CUT_MARGIN = 0.25


def _cut(mask: np.ndarray, left: int, right: int, height: int, depth: int = 0) -> list[tuple[int, int]]:
    """Column ranges of the digits in ``mask[:, left:right]``, cut where least ink runs (at most 2**3 pieces)."""
    lo, hi = int(CUT_MARGIN * (right - left)), int((1 - CUT_MARGIN) * (right - left))
    if right - left <= TOUCHING_WIDTH * height or depth >= 3 or lo < 1 or hi <= lo:
        return [(left, right)]
    profile = mask[:, left:right].sum(axis=0)
    at = left + lo + int(np.argmin(profile[lo:hi]))
    return _cut(mask, left, at, height, depth + 1) + _cut(mask, at, right, height, depth + 1)


def split_digits(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> list[np.ndarray]:
    """The ink of each digit, left to right.

    Parameters
    ----------
    ink : (H, W) float ndarray in [0, 1]
        The canvas's alpha channel (`digits.preprocess.ink_from_canvas`).

    Returns
    -------
    list of (H, W) float32 ndarray
        One image per digit, holding only that digit's ink (its anti-aliased fringe
        included); empty when there is no ink.
    """
    mask = ink > threshold
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        return []
    if count > MAX_PIECES:
        return [ink.astype(np.float32)]
    boxes = ndimage.find_objects(labels)
    rows = np.flatnonzero(mask.any(axis=1))
    ink_height = rows[-1] - rows[0] + 1
    # Group pieces whose columns overlap, widest first so a small piece joins the digit it sits in.
    order = sorted(range(count), key=lambda i: -(boxes[i][1].stop - boxes[i][1].start))
    groups: list[dict] = []
    for i in order:
        rs, cs = boxes[i]
        for g in groups:
            overlap = min(cs.stop, g["right"]) - max(cs.start, g["left"])
            if overlap >= SAME_DIGIT_OVERLAP * min(cs.stop - cs.start, g["right"] - g["left"]):
                g.update(left=min(g["left"], cs.start), right=max(g["right"], cs.stop),
                         top=min(g["top"], rs.start), bottom=max(g["bottom"], rs.stop), ids=g["ids"] + [i + 1])
                break
        else:
            groups.append(dict(left=cs.start, right=cs.stop, top=rs.start, bottom=rs.stop, ids=[i + 1]))
    # Specks (a dot, a stray touch) join the nearest real digit.
    real = [g for g in groups if g["bottom"] - g["top"] >= SPECK * ink_height] or groups
    for g in groups:
        if g not in real:
            centre = (g["left"] + g["right"]) / 2
            near = min(real, key=lambda r: abs((r["left"] + r["right"]) / 2 - centre))
            near["ids"] = near["ids"] + g["ids"]
            near.update(left=min(near["left"], g["left"]), right=max(near["right"], g["right"]))
    if len(real) == 1 and real[0]["right"] - real[0]["left"] <= TOUCHING_WIDTH * (real[0]["bottom"] - real[0]["top"]):
        return [ink.astype(np.float32)]
    # Each pixel, fringe included, belongs to the nearest piece of ink.
    _, (near_r, near_c) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
    owner = labels[near_r, near_c]
    pieces = []
    for g in sorted(real, key=lambda g: g["left"]):
        mine = np.isin(owner, g["ids"])
        height = max(g["bottom"] - g["top"], 1)
        for left, right in _cut(mask & mine, g["left"], g["right"], height):
            part = np.zeros_like(mine)
            part[:, left:right] = mine[:, left:right]
            pieces.append(np.where(part, ink, 0).astype(np.float32))
    return pieces
