"""Split a canvas's ink into the digits written side by side, left to right.

Connected pieces of ink are the starting point. Pieces that overlap in
columns belong to one digit (a 5's top bar, a 4's stem drawn apart), and
specks join the digit nearest to them. What is left may still hold digits
that touch, or one digit broken by a pen lift, and shape alone cannot tell a
wide 0 from two touching 1s. So `read_digits` over-segments (it also cuts
each wide piece along paths of least ink) and lets the classifier choose: of
every way to join the bits back into digits, it keeps the one whose digits
the classifier reads most surely, a little against more digits
(recognition-driven segmentation). Every function here is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import ndimage

from digits import config, preprocess
from digits.config import DIGIT_BOX
from digits.preprocess import INK_THRESHOLD, bounding_box, fit_box, place_centred

# Two pieces are one digit when their columns overlap by this share of the narrower one.
SAME_DIGIT_OVERLAP = 0.5
# ... unless both are at least this share of the ink's height: then they may be two slanted digits.
TALL = 0.6
# Neighbours sharing fewer rows than this share of the shorter one's height, and at most
# STACK_GAP of the ink's height apart in columns, are one digit stacked (a pen lift).
STACKED = 0.3
STACK_GAP = 0.25
# Pieces shorter than this share of the ink's height are specks: they join the nearest digit.
SPECK = 0.25
# ... and so are dots: pieces neither taller nor wider than this share of the other pieces' median height.
DOT = 0.4
# Ink in more pieces than this is not a row of digits (noise, speckle): it is read whole.
MAX_PIECES = 40
# One piece narrower than this many times its height is one digit: read whole, no classifier asked.
ONE_DIGIT_WIDTH = 0.9
# Candidate cuts: columns of locally least ink, at least this share of the piece's height from
# its ends and from each other, at most MAX_CUTS of them per piece.
CUT_SPACING = 0.2
MAX_CUTS = 4
# Cut paths are tried along these slants (columns per row); each step sideways costs DRIFT of a pixel of ink.
SLANTS = np.linspace(-0.5, 0.5, 11)
DRIFT = 0.2
# The ink's box is widened by this many pixels for the strokes' anti-aliased fringe.
FRINGE = 3
# A digit is made of at most this many bits; bits join across a gap of at most this share of height.
MAX_BITS = 4
JOIN_GAP = 0.05
# Joining separate pieces into one digit costs this much log-probability.
JOIN_COST = 1.0
DIGIT_WIDTH = 0.75
# Each cut through a connected piece costs this much log-probability: a cut must be read clearly surer.
CUT_COST = 0.5
# ... and this much more for each stroke it goes through (ink along the cut, in pen widths).
CROSS_COST = 0.5
# ... and this much more times the share of the piece's height it runs inside a hole of the ink: a cut
# through a loop halves a 0 (or a 6's, 8's, 9's loop), while a cut between touching digits passes none.
HOLE_COST = 2.0
# A bit wider than this many times its height is unlikely to be one digit: each unit more costs this.
WIDE = 0.95
WIDE_COST = 4.0
# A bit narrower than this many times its height, read as anything but a 1, costs this per unit narrower.
NARROW = 0.4
NARROW_COST = 10.0
# When the ink is in several groups side by side (a row of digits), a candidate the not-a-digit detector
# doubts (two touching digits read as one often are) costs this much per unit of its logit above ODD_FROM
# below the detector's threshold. Ink in one group goes without: a heart or a scribble cut into
# digit-like pieces would read as a number instead of no digit. With a piece verifier (`Verify`) the
# verifier's doubt is weighed instead: it was trained on exactly such candidates.
ODD_COST = 1.0
ODD_FROM = -2.0

# (N, 28, 28) float32 -> (N, 10) probabilities and (N,) not-a-digit margins: the detector's logit less its
# threshold (positive: not a digit; -inf without a detector). `digits.inference.Classifier.read_margins`.
Read = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
# (N, 28, 28) candidates as read and (N, 28, 28) `Lattice.contexts` -> (N,) the chance that each is not one
# whole digit (a piece of one, two merged, a digit with a piece of its neighbour): `digits.verifier`.
Verify = Callable[[np.ndarray, np.ndarray], np.ndarray]
# A candidate pays this much times the log of the verifier's chance that it is one whole digit, counted as at
# least VERIFY_FLOOR (the most a doubt can cost: 2.3). On bench.numbers (seeds 0 / 1), with the detector's
# ODD_COST left out: 93.0 / 91.7 % exact against 91.0 / 90.0 % without a verifier, bench.not_a_digit 95.4 %
# (95.5 %); weight 1 read the same numbers but flagged 95.1 %, and a floor of 1e-6 94.4 % (pieces of
# letters and arrows read as digits); with ODD_COST too, 92.3 / 91.3 %.
VERIFY_WEIGHT = 0.5
VERIFY_FLOOR = 0.01
# In a candidate's context, the other ink is drawn at this strength.
CONTEXT_OTHERS = 0.4


def _groups(mask: np.ndarray):
    """Connected pieces of ink grouped into digit candidates.

    Parameters
    ----------
    mask : (H, W) bool ndarray
        The ink above the threshold.

    Returns
    -------
    labels : (H, W) int ndarray
        Each piece's label (0: no ink).
    groups : list of dict
        Each with ``left``, ``right``, ``top``, ``bottom`` and the piece labels ``ids``, left to right;
        empty when there is no ink, None when the ink is in too many pieces to be a row of digits.
    """
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count == 0 or count > MAX_PIECES:
        return labels, ([] if count == 0 else None)
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
            tall = min(rs.stop - rs.start, g["bottom"] - g["top"]) >= TALL * ink_height
            if overlap >= SAME_DIGIT_OVERLAP * min(cs.stop - cs.start, g["right"] - g["left"]) and not tall:
                g.update(left=min(g["left"], cs.start), right=max(g["right"], cs.stop),
                         top=min(g["top"], rs.start), bottom=max(g["bottom"], rs.stop), ids=g["ids"] + [i + 1])
                break
        else:
            groups.append(dict(left=cs.start, right=cs.stop, top=rs.start, bottom=rs.stop, ids=[i + 1]))
    # Specks (a dot, a stray touch) join the nearest real digit.
    real = [g for g in groups if g["bottom"] - g["top"] >= SPECK * ink_height] or groups
    if len(real) >= 2:
        typical = float(np.median([g["bottom"] - g["top"] for g in real]))
        real = [g for g in real if max(g["bottom"] - g["top"], g["right"] - g["left"]) >= DOT * typical] or real
    for g in groups:
        if g not in real:
            centre = (g["left"] + g["right"]) / 2
            near = min(real, key=lambda r: abs((r["left"] + r["right"]) / 2 - centre))
            near["ids"] = near["ids"] + g["ids"]
            near.update(left=min(near["left"], g["left"]), right=max(near["right"], g["right"]),
                        top=min(near["top"], g["top"]), bottom=max(near["bottom"], g["bottom"]))
    # Digits side by side share rows: neighbours stacked one above the other, close in columns,
    # are one digit broken by a pen lift (a slanted 1's two halves, a 9's loop and stem).
    real.sort(key=lambda g: g["left"])
    k = 0
    while k + 1 < len(real):
        a, b = real[k], real[k + 1]
        shared = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
        shorter = min(a["bottom"] - a["top"], b["bottom"] - b["top"])
        if shared < STACKED * shorter and b["left"] - a["right"] <= STACK_GAP * ink_height:
            a.update(left=min(a["left"], b["left"]), right=max(a["right"], b["right"]),
                     top=min(a["top"], b["top"]), bottom=max(a["bottom"], b["bottom"]), ids=a["ids"] + b["ids"])
            del real[k + 1]
        else:
            k += 1
    return labels, real


def _nearest(labels: np.ndarray) -> np.ndarray:
    """(H, W) int: the label of the piece nearest to each pixel (so the fringe goes with its stroke)."""
    _, (near_r, near_c) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
    return labels[near_r, near_c]


def _upright(stroke: np.ndarray) -> float:
    """The width of ``stroke`` (H, W bool) over its height, sheared upright along whichever slant makes it narrowest."""
    inked = np.flatnonzero(stroke.any(axis=1))
    rows = stroke[inked]
    left, right = np.argmax(rows, axis=1), stroke.shape[1] - np.argmax(rows[:, ::-1], axis=1)
    moved = SLANTS[:, None] * (inked - inked[0])  # (slants, rows)
    width = (right + moved).max(axis=1) - (left + moved).min(axis=1)
    return float(width.min()) / (inked[-1] - inked[0] + 1)


def _slant(rows: np.ndarray, cols: np.ndarray, inner: int) -> float:
    """The slant (columns per row) along which the fewest strokes cross the inner columns of some ink."""
    def emptiest(slant):
        moved = cols + np.round(slant * (rows - rows.mean())).astype(int)
        profile = np.bincount(moved - moved.min())
        return profile[inner : len(profile) - inner].min() if len(profile) > 2 * inner else np.inf
    return min(SLANTS, key=lambda s: (emptiest(s), abs(s)))


def _paths(stroke: np.ndarray, group: dict) -> list[np.ndarray]:
    """Candidate cuts through one group's ``stroke``, left to right: each the column of the cut in every row.

    A cut is the path of least ink from the group's top to its bottom, moving
    at most one column a row (and paying ``DRIFT`` for it) in the ink sheared
    upright along its slant, so it can run down the slanted gap between two
    touching digits. Each local minimum of the cost, at least ``CUT_SPACING``
    of the height apart, is one candidate.
    """
    top, bottom, left, right = group["top"], group["bottom"], group["left"], group["right"]
    height = bottom - top
    spacing = max(int(CUT_SPACING * height), 2)
    rows, cols = np.nonzero(stroke[top:bottom, left:right])
    slant = _slant(rows, cols, spacing)
    shift = np.round(slant * (np.arange(height) - rows.mean())).astype(int)  # (height,) column shift per row
    shift -= shift.min()
    width = right - left + shift.max()
    cost = np.zeros((height, width), np.float32)
    cost[rows, cols + shift[rows]] = 1.0  # the ink, sheared upright
    moved = cols + shift[rows]
    lo, hi = moved.min() + spacing, moved.max() + 1 - spacing
    if hi <= lo:
        return []
    # Least ink from the top row down to each pixel (dynamic programming over rows).
    total = np.full(width + 2, np.inf, np.float32)
    total[1 + lo : 1 + hi] = cost[0, lo:hi]
    step = np.zeros((height, width), np.int8)
    for r in range(1, height):
        options = np.stack([total[:-2] + DRIFT, total[1:-1], total[2:] + DRIFT])  # from the left, above, right
        step[r] = np.argmin(options, axis=0) - 1
        total[1:-1] = options[step[r] + 1, np.arange(width)] + cost[r]
        total[1 : 1 + lo], total[1 + hi : -1] = np.inf, np.inf
    end = total[1:-1]
    lowest = ndimage.minimum_filter1d(end, 2 * spacing + 1, mode="nearest")
    minima = [c for c in range(lo, hi) if end[c] <= lowest[c]]
    chosen: list[int] = []
    for c in sorted(minima, key=lambda c: end[c]):
        if len(chosen) < MAX_CUTS and all(abs(c - o) >= spacing for o in chosen):
            chosen.append(c)
    paths = []
    for c in sorted(chosen):
        path = np.empty(height, int)
        path[-1] = c
        for r in range(height - 1, 0, -1):
            path[r - 1] = path[r] + step[r, path[r]]
        paths.append(left + path - shift)  # back to the unsheared crop
    # Rows above and below the group keep the cut's end columns; cuts never cross.
    full = [np.concatenate([np.full(top, p[0]), p, np.full(stroke.shape[0] - bottom, p[-1])]) for p in paths]
    return list(np.maximum.accumulate(np.array(full), axis=0)) if full else []


def lattice_of(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[tuple[slice, slice], Lattice] | None:
    """Every candidate digit of ``ink`` (H, W float in [0, 1]) and the box the lattice's crop was cut from.

    What `read_digits` weighs, without its shortcuts for ink that is plainly one digit: None when there is
    no ink or it is in too many pieces to be a row of digits. `digits.verifier` learns from these.
    """
    found = _inked(ink, threshold)
    if found is None:
        return None
    box, crop, mask, labels, groups = found
    if not groups:
        return None
    return box, build_lattice(crop, mask, labels, groups, threshold)


def _inked(ink: np.ndarray, threshold: float):
    """The box of ``ink``'s pixels above ``threshold``, ``FRINGE`` wider for the strokes' anti-aliased fringe;
    the ink cut to it, which of its pixels are ink, and their `_groups` (labels, groups). None without ink."""
    box = bounding_box(ink, threshold)
    if box is None:
        return None
    box = tuple(slice(max(s.start - FRINGE, 0), s.stop + FRINGE) for s in box)
    crop = ink[box]
    mask = crop > threshold
    return (box, crop, mask, *_groups(mask))


def read_digits(ink: np.ndarray, read: Read, threshold: float = INK_THRESHOLD,
                whole: tuple[np.ndarray, float] | None = None, verify: Verify | None = None) -> list[np.ndarray]:
    """The ink of each digit, left to right, the split chosen by how surely the classifier reads it.

    The ink is cut into bits: its connected pieces, grouped into digit candidates,
    each wide one also cut along paths of least ink (`_paths`). Every run of up to
    ``MAX_BITS`` neighbouring bits is a candidate digit, read in one batch; the
    split kept is the one with the highest sum of log top-probabilities, less
    ``CUT_COST`` for each cut through a piece (more for each stroke it crosses, and
    for the share of its length inside a loop of the ink), ``JOIN_COST`` for each join of
    pieces, ``WIDE_COST`` for digits far wider than tall, and the piece verifier's
    doubt that a candidate is one whole digit (``verify``; without one, in ink of
    several groups, ``ODD_COST`` for candidates the not-a-digit detector doubts:
    two touching digits read as one).
    Ink that is plausibly one digit (one piece no wider than ``ONE_DIGIT_WIDTH``
    times its height) is returned whole without asking the classifier.

    Parameters
    ----------
    ink : (H, W) float ndarray in [0, 1]
        The canvas's alpha channel (`digits.preprocess.ink_from_canvas`).
    read : callable
        (N, 28, 28) float32 images in [0, 1] -> (N, 10) class probabilities and (N,)
        not-a-digit margins (`Read`; `digits.inference.Classifier.read_margins`).
    threshold : float
        Alpha above which a pixel is ink.
    whole : ((10,) ndarray, float), optional
        The whole drawing's probabilities and not-a-digit margin, when the caller
        has read it already (`digits.inference.read_canvas` has): then it is not read again.
    verify : callable, optional
        (N, 28, 28) candidates and their (N, 28, 28) contexts -> (N,) chance that each
        is not one whole digit (`Verify`; `digits.inference.Classifier.doubt_pieces`).

    Returns
    -------
    list of (H, W) float32 ndarray
        One image per digit, holding only that digit's ink (its anti-aliased fringe
        included); empty when there is no ink.
    """
    found = _inked(ink, threshold)  # work on the ink's box, a few pixels wider
    if found is None:
        return []
    box, crop, mask, labels, groups = found
    if groups is None or (len(groups) == 1 and _upright(mask) <= ONE_DIGIT_WIDTH):
        return [ink.astype(np.float32)]
    if len(groups) == 1:
        # Every split of one piece cuts it at least once, for at least CUT_COST: a whole read surely
        # enough beats any split, and the cuts need not be found nor their pieces read (a wide 0).
        image = lambda: np.clip(place_centred(fit_box(_shrunk(_crop(crop, mask, np.ones_like(mask))))), 0.0, 1.0)[None].astype(np.float32)
        if whole is None:
            probs, margins = read(image())
            whole = probs[0], float(margins[0])
        score = _scores(whole[0][None], np.array([whole[1]]), np.array([_upright(mask)]), several=False)[0]
        if verify is not None and score > -CUT_COST:  # the verifier's doubt counts against the whole too
            alone = Lattice(crop, mask, [(0, np.ones_like(mask), np.zeros(len(crop), int), np.full(len(crop),
                            crop.shape[1]), 0.0)], [(0, 1)], image(), np.zeros(1), np.zeros(1))
            score += VERIFY_WEIGHT * np.log(np.clip(1.0 - verify(alone.images, alone.contexts())[0], VERIFY_FLOOR, 1.0))
        if score > -CUT_COST:
            return [ink.astype(np.float32)]
    lattice = build_lattice(crop, mask, labels, groups, threshold)
    probs, margins = read(lattice.images)
    scores = _scores(probs, margins, lattice.shapes, several=len(groups) > 1 and verify is None) - lattice.costs
    if verify is not None:
        scores += VERIFY_WEIGHT * np.log(np.clip(1.0 - verify(lattice.images, lattice.contexts()), VERIFY_FLOOR, 1.0))
    runs, bits, columns = lattice.runs, lattice.bits, np.arange(crop.shape[1])
    # The best split of bits[:j] into digits, for each j (dynamic programming).
    best = [(0.0, [])] + [(-np.inf, [])] * len(bits)
    for (i, j), score in zip(runs, scores):
        if best[i][0] + score > best[j][0]:
            best[j] = (best[i][0] + score, best[i][1] + [(i, j)])
    if not best[-1][1]:
        return [ink.astype(np.float32)]
    parts = []
    for i, j in best[-1][1]:
        part = np.zeros(ink.shape, np.float32)
        part[box] = np.where(_owned(bits[i:j], columns), crop, 0)
        parts.append(part)
    return parts


@dataclass
class Lattice:
    """Every candidate digit of some ink: each run of neighbouring bits, as the classifier would read it.

    ``bits`` are the ink's pieces (grouped into digit candidates, `_groups`) cut along paths of least
    ink (`_paths`), left to right, each (group index, its pixels, left cut, right cut, the right cut's extra
    cost); ``runs`` the (first, end) bit indices of each candidate.
    """

    crop: np.ndarray  # (H, W) float: the ink's box, FRINGE wider
    mask: np.ndarray  # (H, W) bool: its ink
    bits: list
    runs: list[tuple[int, int]]
    images: np.ndarray  # (N, 28, 28) float32: each candidate prepared as MNIST's digits were
    shapes: np.ndarray  # (N,) width over height, upright (`_upright`)
    costs: np.ndarray  # (N,) what its cuts and joins cost

    def pixels(self, k: int) -> np.ndarray:
        """(H, W) bool: the pixels candidate ``k`` owns (its ink and their fringe)."""
        i, j = self.runs[k]
        return _owned(self.bits[i:j], np.arange(self.crop.shape[1]))

    def contexts(self) -> np.ndarray:
        """(N, 28, 28) float32: each candidate among its neighbours, at the scale of the whole ink.

        A square window as tall as the ink, centred on the candidate's columns: its own ink at full
        strength, the rest at `CONTEXT_OTHERS`. Fitted alone into 20 px, a 5's top bar and a 1 look
        alike; here the bar is a short stroke over a taller neighbour.
        """
        rows = np.flatnonzero(self.mask.any(axis=1))
        top, side = rows[0], rows[-1] - rows[0] + 1
        band = self.crop[top : top + side].astype(np.float64)
        along = preprocess.resampling(side, config.IMAGE_SIZE)
        out = np.empty((len(self.runs), config.IMAGE_SIZE, config.IMAGE_SIZE), np.float32)
        for k in range(len(self.runs)):
            mine = self.pixels(k)[top : top + side]
            cols = np.flatnonzero((mine & self.mask[top : top + side]).any(axis=0))
            centre = (cols[0] + cols[-1] + 1) // 2 if cols.size else band.shape[1] // 2
            left = centre - side // 2
            window = np.zeros((side, side))
            lo, hi = max(left, 0), min(left + side, band.shape[1])
            window[:, lo - left : hi - left] = np.where(mine[:, lo:hi], 1.0, CONTEXT_OTHERS) * band[:, lo:hi]
            out[k] = along @ window @ along.T
        return np.clip(out, 0.0, 1.0)


def build_lattice(crop: np.ndarray, mask: np.ndarray, labels: np.ndarray, groups: list[dict],
                  threshold: float = INK_THRESHOLD) -> Lattice:
    """Cut the grouped pieces of ``crop`` into bits and prepare every run of up to ``MAX_BITS`` of them.

    Parameters
    ----------
    crop : (H, W) float ndarray in [0, 1]
        The ink's box (a few pixels wider).
    mask : (H, W) bool ndarray
        Its ink.
    labels, groups
        `_groups` of ``mask``.
    threshold : float
        Alpha above which a pixel is ink.

    Returns
    -------
    Lattice
    """
    owner = _nearest(labels)
    # Bits, left to right: (group index, its pixels, cut on the left, cut on the right, the right cut's extra
    # cost), a cut being a column per row.
    first, last = np.zeros(len(crop), int), np.full(len(crop), crop.shape[1])
    rows = np.arange(len(crop))
    pen = 2 * mask.sum() / max((mask & ~ndimage.binary_erosion(mask)).sum(), 1)  # the stroke's width in pixels
    bits = []
    for k, g in enumerate(groups):
        mine = np.isin(owner, g["ids"])
        stroke = mask & mine
        cuts = _paths(stroke, g) if _upright(stroke) > ONE_DIGIT_WIDTH else []
        # What each cut costs beyond CUT_COST: the strokes it goes through, in pen widths (a cut between
        # touching digits crosses few), and its length inside a hole of the ink (a cut through a 0's loop).
        holes = ndimage.binary_fill_holes(stroke) & ~stroke if cuts else None
        at = [np.minimum(c, crop.shape[1] - 1) for c in cuts]
        extra = [CROSS_COST * stroke[rows, c].sum() / pen + HOLE_COST * holes[rows, c].sum() / (g["bottom"] - g["top"])
                 for c in at] + [0.0]
        edges = [first] + cuts + [last]
        bits.extend((k, mine, a, b, x) for a, b, x in zip(edges[:-1], edges[1:], extra))
    columns = np.arange(crop.shape[1])
    runs, images, shapes = [], [], []
    for i in range(len(bits)):
        for j in range(i + 1, min(i + MAX_BITS, len(bits)) + 1):
            if j - 1 > i and bits[j - 1][0] != bits[j - 2][0]:
                before, after = groups[bits[j - 2][0]], groups[bits[j - 1][0]]
                height = max(max(before["bottom"], after["bottom"]) - min(before["top"], after["top"]), 1)
                if after["left"] - before["right"] > JOIN_GAP * height:
                    break
            mine = _owned(bits[i:j], columns)
            digit = _crop(crop, mine & mask, mine)
            if digit is None:
                continue
            runs.append((i, j))
            images.append(place_centred(fit_box(_shrunk(digit))))
            shapes.append(_upright(digit > threshold))
    shapes = np.array(shapes)
    # A digit ending inside a piece cuts it.
    costs = np.array([(CUT_COST + bits[j - 1][4]) * (j < len(bits) and bits[j][0] == bits[j - 1][0])
                      for i, j in runs])
    # Joining pieces costs nothing when they make one digit's shape (a pen lift).
    joins = np.array([len({b[0] for b in bits[i:j]}) - 1 for i, j in runs])
    costs = costs + JOIN_COST * joins * (shapes > DIGIT_WIDTH)
    images = np.clip(np.stack(images), 0.0, 1.0).astype(np.float32) if images else np.zeros((0, 28, 28), np.float32)
    return Lattice(crop, mask, bits, runs, images, shapes, costs)


def _scores(probs: np.ndarray, margins: np.ndarray, shapes: np.ndarray, several: bool) -> np.ndarray:
    """Each candidate digit's own score: its log top-probability less the costs of its shape and oddness.

    Parameters
    ----------
    probs : (N, 10) ndarray
    margins : (N,) ndarray
        Not-a-digit margins (`Read`).
    shapes : (N,) ndarray
        Each candidate's width over its height, upright (`_upright`).
    several : bool
        The ink is in several groups (a row of digits) and no verifier weighs the candidates: the
        detector's doubt then costs ``ODD_COST``.

    Returns
    -------
    (N,) float ndarray
        At most 0; the cost of cutting and joining pieces is not included.
    """
    scores = np.log(probs.max(axis=1) + 1e-9) - WIDE_COST * np.maximum(shapes - WIDE, 0)
    if several:
        scores -= ODD_COST * np.maximum(margins - ODD_FROM, 0)
    # Only a 1 is that thin: a thin sliver read as another digit is most likely a piece of one.
    return scores - NARROW_COST * np.maximum(NARROW - shapes, 0) * (probs.argmax(axis=1) != 1)


def _owned(bits: list, columns: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels of ``bits``, each (group index, its pixels, left cut, right cut, cut cost)."""
    mine = np.zeros((len(bits[0][1]), len(columns)), bool)
    for _, pixels, left, right, _ in bits:
        mine |= pixels & (columns >= left[:, None]) & (columns < right[:, None])
    return mine


def _crop(ink: np.ndarray, stroke: np.ndarray, mine: np.ndarray) -> np.ndarray | None:
    """``ink`` owned by ``mine``, cropped to the box of ``stroke``; None when there is no stroke."""
    rows, cols = np.flatnonzero(stroke.any(axis=1)), np.flatnonzero(stroke.any(axis=0))
    if rows.size == 0:
        return None
    box = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
    return np.where(mine[box], ink[box], 0).astype(np.float32)


# Candidates are read from crops at most this many times the 20 px box: a Gaussian pre-filter on a
# 600-pixel crop costs tens of milliseconds, and a block mean first gives the same 20 px image.
SHRINK_ABOVE = 4


def _shrunk(crop: np.ndarray) -> np.ndarray:
    """``crop`` averaged over k x k blocks, k the whole factor that brings it near `SHRINK_ABOVE` boxes."""
    k = max(crop.shape) // (SHRINK_ABOVE * DIGIT_BOX)
    if k < 2:
        return crop
    h, w = (-(-n // k) * k for n in crop.shape)  # padded up to whole blocks
    padded = np.zeros((h, w), np.float32)
    padded[: crop.shape[0], : crop.shape[1]] = crop
    return padded.reshape(h // k, k, w // k, k).mean(axis=(1, 3))
