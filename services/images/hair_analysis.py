"""Hair counts from a trichoscopy image: find each shaft, count, measure, classify.

The steps, each a function below:

1. Darkness (`darkness`): the share of light each pixel of the red channel
   loses against the skin around it, in linear light. Hair melanin absorbs
   across the visible range, the blood in vessels and redness mostly green
   and blue, so in red the hair stands out and the vessels fade. The skin
   around each pixel is a morphological closing wider than the widest shaft
   (a black-hat filter's background), so uneven light drops out.
2. Shafts (`shaft_masks`): the darkness is averaged along short lines in
   the direction that keeps it darkest (`along_shafts`), a line filter that
   brings faint thin hairs out of the noise; a pixel is shaft where it is at
   least half as dark as the darkest nearby (half maximum: the edge of a
   blurred shaft lies where its darkness has fallen by half, whatever its
   contrast); components holding no clearly dark seed are dropped.
3. Skeleton (`skeleton`): the mask thinned to a one-pixel centre line
   (Guo and Hall 1989, by lookup table over the 8 neighbours).
4. Segments: the skeleton is cut at its branch points (a disk as wide as
   the shafts there) into simple paths, and each path at any sharp corner
   (two hairs leaving one follicle opening). Short spurs of thinning are
   dropped. Then segments that continue each other (nearly straight on, of
   like width) are joined, at a junction or across a short gap, so a hair
   crossing another is one hair and a hair ending on another is its own.
5. Hairs: each chain of joined segments is a hair. Its length is its
   centre line's, with the gaps and what thinning ate at its ends; its
   diameter is the width at half maximum of its darkness profile across the
   centre line, measured to a fraction of a pixel (the distance transform
   of the mask, which sizes the junctions and ends, steps by whole pixels:
   a sixth of a vellus hair). A hair counts when its length reaches
   MIN_COUNTED_HAIR_LENGTH_UM (a follicle opening or a black dot is round,
   no shaft); it is vellus when its diameter is at most
   VELLUS_MAX_DIAMETER_UM (TrichoScan's threshold).

Images are RGB `uint8` numpy arrays (height x width x 3), as
`numpy.asarray(pil_image)` gives, or greyscale (height x width), sRGB.
What cannot be seen is not counted: a hair lying along another, or under
it for most of its length, is missed, and the counts run a few per cent
low on dense fields (see tests/test_hair_analysis.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from domain.analysis import (
    MAX_SHAFT_DIAMETER_UM,
    MIN_COUNTED_HAIR_LENGTH_UM,
    VELLUS_MAX_DIAMETER_UM,
)

ALGORITHM = "skeleton-trichometry"
# Bump on any change that moves a figure, so stored analyses say what made them.
ALGORITHM_VERSION = "1.0.0"

# The share of light a pixel must lose against the skin around it to be part
# of a shaft...
MIN_SHAFT_DARKNESS = 0.1
# ...and what one pixel of each shaft must lose: DARK_SEED against the skin
# around (a pigmented shaft), or THIN_SEED against the skin within
# THIN_SHAFT_UM (a thin, light vellus hair, whose edges are sharp).
DARK_SEED = 0.35
THIN_SEED = 0.2
THIN_SHAFT_UM = 60.0
# A shaft's width is measured on its darkness profile across it, every
# PROFILE_EVERY_PX pixels along its centre line, sampled every PROFILE_STEP_PX.
PROFILE_EVERY_PX = 2
PROFILE_STEP_PX = 0.25
# Darkness is averaged along lines of LINE_PX pixels in LINE_DIRECTIONS directions.
LINE_PX = 9
LINE_DIRECTIONS = 8
# The darkness is smoothed with a Gaussian of this sigma (pixels) against sensor noise.
NOISE_SIGMA_PX = 1.0
# Half maximum: a pixel belongs to a shaft when it is at least this share as
# dark as the darkest pixel within HALF_MAXIMUM_REACH_PX of it. The reach
# spans a shaft's blurred edge (the optics' blur and NOISE_SIGMA_PX, 3 sigma),
# so an edge pixel sees its own shaft's core, and no further: a vellus hair
# beside a terminal one is judged by its own darkness.
HALF_MAXIMUM = 0.5
HALF_MAXIMUM_REACH_PX = 5
# A junction's disk: this many times the shaft's half-width there, plus
# JUNCTION_MARGIN_PX: the blob where the shafts meet.
JUNCTION_RADIUS = 0.7
JUNCTION_MARGIN_PX = 1.0
# Two segments at a junction continue each other when the turn from one to
# the other is at most this, both at their ends and along the gap between them...
MAX_TURN_DEG = 30.0
# ...and the thinner is at least this share of the thicker's width.
MIN_WIDTH_SHARE = 0.5
# A segment's direction at an end: from its pixels between END_SKIP and
# END_SKIP + END_REACH half-widths of the end (the reach at least
# END_REACH_MIN_PX); the skeleton bends towards a crossing just before it.
END_SKIP = 1.0
END_REACH = 3.0
END_REACH_MIN_PX = 6
# A corner: the path turns by more than CORNER_DEG between the stretches of
# CORNER_LAG half-widths (at least CORNER_LAG_MIN_PX) either side of a pixel.
CORNER_DEG = 60.0
CORNER_LAG = 2.0
CORNER_LAG_MIN_PX = 4
# An end this close to the frame's edge is where the shaft leaves the frame.
EDGE_PX = 3
# A spur: a segment from a junction to a free end, shorter than this many
# half-widths: an artefact of thinning at a bump of the outline.
SPUR_LENGTH = 2.5
# Chain-code length (Kulpa 1977): a straight step counts 0.948, a diagonal 1.343,
# which is unbiased over all directions.
KULPA_STRAIGHT, KULPA_DIAGONAL = 0.948, 1.343
# Colours (RGB) the hairs are drawn in: terminal and vellus, and how thick.
TERMINAL_COLOUR = (0, 200, 255)
VELLUS_COLOUR = (255, 60, 200)
DRAWN_WIDTH_PX = 3


@dataclass(frozen=True)
class HairShaft:
    """One hair found: its centre line's pixels (x, y), length and diameter (um)."""

    pixels: np.ndarray
    length_um: float
    diameter_um: float

    @property
    def vellus(self) -> bool:
        return self.diameter_um <= VELLUS_MAX_DIAMETER_UM


@dataclass(frozen=True)
class HairAnalysis:
    """The hairs of one trichoscopy image and the figures made of them.

    `terminal_vellus_ratio` is None without a vellus hair; `mean_shaft_diameter_um`
    None without any hair.
    """

    hairs: tuple[HairShaft, ...]
    microns_per_pixel: float
    field_cm2: float

    algorithm: str = ALGORITHM
    version: str = ALGORITHM_VERSION
    vellus_threshold_um: float = VELLUS_MAX_DIAMETER_UM

    @property
    def hair_count(self) -> int:
        return len(self.hairs)

    @property
    def vellus_count(self) -> int:
        return sum(hair.vellus for hair in self.hairs)

    @property
    def terminal_count(self) -> int:
        return self.hair_count - self.vellus_count

    @property
    def density_per_cm2(self) -> float:
        return self.hair_count / self.field_cm2

    @property
    def mean_shaft_diameter_um(self) -> float | None:
        if not self.hairs:
            return None
        return float(np.mean([hair.diameter_um for hair in self.hairs]))

    @property
    def terminal_vellus_ratio(self) -> float | None:
        return self.terminal_count / self.vellus_count if self.vellus_count else None


def analyse(image: np.ndarray, microns_per_pixel: float) -> HairAnalysis:
    """Find, count and measure the hairs of a trichoscopy image of this scale."""
    if microns_per_pixel <= 0:
        raise ValueError("microns_per_pixel must be positive")
    lost = darkness(image, microns_per_pixel)
    traced, measured = shaft_masks(image, microns_per_pixel, lost)
    # (The mask goes on beyond the frame as it is at the edge, so a shaft
    # leaving the frame is measured across its width, not to the edge.)
    pad = math.ceil(MAX_SHAFT_DIAMETER_UM / microns_per_pixel / 2) + 1
    padded = cv2.copyMakeBorder(measured, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    distance = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[pad:-pad,
                                                                                pad:-pad]
    hairs = _hairs(skeleton(traced), distance, lost, microns_per_pixel)
    height, width = traced.shape
    field_cm2 = width * height * microns_per_pixel ** 2 / 1e8
    return HairAnalysis(tuple(hairs), microns_per_pixel, field_cm2)


def drawn(image: np.ndarray, analysis: HairAnalysis) -> np.ndarray:
    """The image (RGB) with every hair found drawn along its centre line, by population."""
    picture = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    kernel = np.ones((DRAWN_WIDTH_PX, DRAWN_WIDTH_PX), np.uint8)
    for vellus, colour in ((False, TERMINAL_COLOUR), (True, VELLUS_COLOUR)):
        lines = np.zeros(picture.shape[:2], np.uint8)
        for hair in analysis.hairs:
            if hair.vellus == vellus:
                lines[hair.pixels[:, 1], hair.pixels[:, 0]] = 1
        picture[cv2.dilate(lines, kernel) > 0] = colour
    return picture


def drawn_png(image: np.ndarray, analysis: HairAnalysis) -> bytes:
    """`drawn` as PNG bytes."""
    _, encoded = cv2.imencode(".png", cv2.cvtColor(drawn(image, analysis), cv2.COLOR_RGB2BGR))
    return encoded.tobytes()


# -- 1. darkness ---------------------------------------------------------------

def darkness(image: np.ndarray, microns_per_pixel: float,
             widest_um: float = MAX_SHAFT_DIAMETER_UM) -> np.ndarray:
    """The share of light each pixel loses against the skin around it, 0-1 (float32).

    In linear light (sRGB decoded), where the optics' blur acts: the edge of
    a blurred shaft then lies where half its darkness is lost. The skin is
    the closing of the red channel by a square wider than `widest_um` (a
    black-hat filter's background), done on the image shrunk so that square
    is 9 pixels, then smoothed and grown back (the closing of skin varies
    slowly).
    """
    red = image if image.ndim == 2 else image[..., 0]
    linear = _SRGB_TO_LINEAR[red]
    widest_px = widest_um / microns_per_pixel
    factor = min(1.0, 9 / (widest_px + 2))
    height, width = red.shape
    small = cv2.resize(linear, (max(1, round(width * factor)), max(1, round(height * factor))),
                       interpolation=cv2.INTER_AREA)
    side = max(3, math.ceil((widest_px + 2) * factor) | 1)
    skin = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((side, side), np.uint8))
    skin = cv2.GaussianBlur(skin, (0, 0), side / 4)
    skin = cv2.resize(skin, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(1 - linear / np.maximum(skin, 1e-3), 0, 1)


def _srgb_decoding() -> np.ndarray:
    """8-bit sRGB -> linear light (0-1), IEC 61966-2-1."""
    levels = np.arange(256, dtype=np.float64) / 255
    return np.where(levels <= 0.04045, levels / 12.92,
                    ((levels + 0.055) / 1.055) ** 2.4).astype(np.float32)


_SRGB_TO_LINEAR = _srgb_decoding()


# -- 2. shafts -----------------------------------------------------------------

def shaft_masks(image: np.ndarray, microns_per_pixel: float,
                lost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pixels of hair shafts (uint8, 1 for shaft): to trace, and to measure.

    `lost` is the image's `darkness`, smoothed here by NOISE_SIGMA_PX.

    To trace: where the darkness averaged along the shaft (`along_shafts`)
    is at least half the darkest nearby, in components that hold a seed: a
    pixel that loses DARK_SEED of its light, or a thin line that loses
    THIN_SEED against the skin just beside it (a vellus hair is light but
    sharp; a patch of darker skin is neither). To measure: those of them
    where the darkness itself is at least half the darkest nearby (the
    average along a line leans a little across the shaft at its edges).
    """
    raw = cv2.GaussianBlur(lost, (0, 0), NOISE_SIGMA_PX)
    lost = along_shafts(raw)
    mask = _filled(_half_maximum(lost) & (lost >= MIN_SHAFT_DARKNESS))
    thin = along_shafts(cv2.GaussianBlur(darkness(image, microns_per_pixel, THIN_SHAFT_UM),
                                         (0, 0), NOISE_SIGMA_PX))
    seeds = (lost >= DARK_SEED) | (thin >= THIN_SEED)
    count, labels = cv2.connectedComponents(mask, connectivity=8)
    seeded = np.zeros(count, bool)
    seeded[np.unique(labels[seeds])] = True
    seeded[0] = False
    traced = seeded[labels].astype(np.uint8)
    return traced, traced & _filled(_half_maximum(raw))


def _half_maximum(lost: np.ndarray) -> np.ndarray:
    """Where the darkness is at least half the darkest within HALF_MAXIMUM_REACH_PX (uint8)."""
    side = 2 * HALF_MAXIMUM_REACH_PX + 1
    nearby = cv2.dilate(lost, np.ones((side, side), np.uint8))
    return (lost >= HALF_MAXIMUM * nearby).astype(np.uint8)


def _line_kernels() -> list[np.ndarray]:
    """Straight lines of LINE_PX pixels through a square's centre, one per direction, each
    summing to 1."""
    kernels = []
    middle = LINE_PX // 2
    for step in range(LINE_DIRECTIONS):
        angle = math.pi * step / LINE_DIRECTIONS
        offset = np.array([math.cos(angle), math.sin(angle)]) * middle
        kernel = np.zeros((LINE_PX, LINE_PX), np.float32)
        ends = [np.round((middle + sign * offset) * 16).astype(int) for sign in (-1, 1)]
        cv2.line(kernel, tuple(ends[0]), tuple(ends[1]), 1.0, 1, cv2.LINE_AA, shift=4)
        kernels.append(kernel / kernel.sum())
    return kernels


_LINE_KERNELS = _line_kernels()


def along_shafts(lost: np.ndarray) -> np.ndarray:
    """The darkness averaged along a short line, in the direction that keeps it darkest.

    On a shaft, the line that lies along it averages the shaft with itself
    and the noise away (LINE_PX pixels: a third of the noise), without
    blurring the shaft's edges much; skin, noise and blotches have no such
    line. (Done in 8 bits, a 255th of darkness, which filters four times
    faster than floats.)
    """
    levels = cv2.convertScaleAbs(lost, alpha=255.0)
    darkest = np.zeros_like(levels)
    for kernel in _LINE_KERNELS:
        cv2.max(darkest, cv2.filter2D(levels, -1, kernel), dst=darkest)
    return darkest.astype(np.float32) / np.float32(255.0)


def _filled(mask: np.ndarray) -> np.ndarray:
    """The mask with pinholes and one-pixel nicks closed (noise on a shaft)."""
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))


# -- 3. skeleton ---------------------------------------------------------------

# The 8 neighbours as bits, counter-clockwise from east: E = 1, NE = 2, N = 4, NW = 8,
# W = 16, SW = 32, S = 64, SE = 128 (Guo and Hall's x1 ... x8).
_NEIGHBOUR_BITS = np.array([[8, 4, 2], [16, 0, 1], [32, 64, 128]], np.float32)


def _neighbour_codes(binary: np.ndarray) -> np.ndarray:
    """Each pixel's 8 neighbours (of a 0/1 image) as one byte (a sum of _NEIGHBOUR_BITS)."""
    return cv2.filter2D(binary, cv2.CV_8U, _NEIGHBOUR_BITS, borderType=cv2.BORDER_CONSTANT)


def _neighbours(code: int) -> list[bool]:
    """x1 ... x8 of a neighbour code (list index 0 ... 7)."""
    return [bool((code >> bit) & 1) for bit in range(8)]


def _thinning_tables() -> tuple[np.ndarray, np.ndarray]:
    """For each neighbour code: may the pixel go in Guo and Hall's first, second sub-iteration?

    Guo and Hall 1989 ("Parallel thinning with two-subiteration algorithms",
    algorithm A1): a pixel goes when it joins exactly one run of neighbours
    (C = 1, Hilditch's crossing number), is no end of a line (N in 2 ... 3)
    and lies on the sub-iteration's side (south-east first, then north-west).
    Unlike Zhang and Suen's, the result is 8-connected and one pixel wide
    even along diagonals.
    """
    first, second = np.zeros(256, np.uint8), np.zeros(256, np.uint8)
    for code in range(256):
        x = _neighbours(code)
        crossing = sum(not x[i] and (x[i + 1] or x[(i + 2) % 8]) for i in (0, 2, 4, 6))
        n1 = sum(x[k] or x[k - 1] for k in (1, 3, 5, 7))
        n2 = sum(x[k] or x[(k + 1) % 8] for k in (1, 3, 5, 7))
        if crossing == 1 and 2 <= min(n1, n2) <= 3:
            first[code] = not ((x[1] or x[2] or not x[7]) and x[0])
            second[code] = not ((x[5] or x[6] or not x[3]) and x[4])
    return first, second


_THINNING = _thinning_tables()


def skeleton(mask: np.ndarray) -> np.ndarray:
    """The mask thinned to 8-connected centre lines one pixel wide (Guo and Hall 1989)."""
    thin = (mask > 0).astype(np.uint8)
    while True:
        removed = 0
        for table in _THINNING:
            deletable = cv2.LUT(_neighbour_codes(thin), table) & thin
            removed += int(cv2.countNonZero(deletable))
            thin -= deletable
        if not removed:
            return thin


# -- 4. segments and junctions -----------------------------------------------------

def _count_table() -> np.ndarray:
    """For each neighbour code: how many neighbours."""
    return np.array([sum(_neighbours(code)) for code in range(256)], np.uint8)


_NEIGHBOUR_COUNT = _count_table()


@dataclass
class _Segment:
    """A piece of skeleton between junctions and ends: its pixels (x, y) and measures.

    `half_width_px` (the distance transform on the centre line) sizes the
    junctions, spurs and ends; `width_px` (the profile's half-maximum width,
    NaN where none was measured) is the shaft's diameter.
    """

    pixels: np.ndarray
    length_px: float
    half_width_px: float
    ends: list[_End]
    width_px: float = math.nan


@dataclass
class _End:
    """One end of a segment: where, which way it points (outwards), what it touches.

    `reach_px`: how far the shaft goes on beyond the end: for a free end
    the half-width that thinning ate back, for an end at a junction the
    distance to the branch point it was cut from.
    """

    segment: int
    point: np.ndarray
    direction: np.ndarray
    junction: int  # the junction it touches, -1 for none (a free end)
    half_width_px: float
    reach_px: float
    joined: bool = False


def _hairs(thin: np.ndarray, distance: np.ndarray, lost: np.ndarray,
           microns_per_pixel: float) -> list[HairShaft]:
    """The hairs of a skeleton: segments cut at junctions, joined where they continue."""
    junctions, to_branch = _junction_zones(thin, distance)
    segments = _segments(thin & (junctions == 0), junctions, distance, to_branch, lost,
                         math.ceil(MAX_SHAFT_DIAMETER_UM / microns_per_pixel / 2) + 2)
    segments = _without_spurs(segments)
    widest_px = MAX_SHAFT_DIAMETER_UM / microns_per_pixel
    hairs = []
    for chain, gaps in _joined(segments, thin.shape, widest_px + 2 * HALF_MAXIMUM_REACH_PX):
        hair = _hair(chain, gaps, segments, microns_per_pixel)
        if hair.length_um >= MIN_COUNTED_HAIR_LENGTH_UM:
            hairs.append(hair)
    return hairs


def _junction_zones(thin: np.ndarray, distance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Disks around the skeleton's branch points, labelled (0 outside any), and each
    pixel's distance to the nearest branch point."""
    branch = (cv2.LUT(_neighbour_codes(thin), _NEIGHBOUR_COUNT) >= 3) & (thin > 0)
    zones = np.zeros(thin.shape, np.uint8)
    ys, xs = np.nonzero(branch)
    for x, y in zip(xs, ys):
        radius = JUNCTION_RADIUS * distance[y, x] + JUNCTION_MARGIN_PX
        cv2.circle(zones, (int(x), int(y)), round(radius), 1, -1)
    _, labels = cv2.connectedComponents(zones, connectivity=8)
    to_branch = cv2.distanceTransform((~branch).astype(np.uint8), cv2.DIST_L2, 3)
    return labels, to_branch


def _segments(pieces: np.ndarray, junctions: np.ndarray, distance: np.ndarray,
              to_branch: np.ndarray, lost: np.ndarray, reach_px: int) -> list[_Segment]:
    """The skeleton's pieces outside the junctions as ordered paths, split at sharp corners.

    Each piece is a simple path (its branch points are in the junctions):
    `cv2.findContours` walks round it, from one end to the other and back,
    which puts its pixels in order.
    """
    contours, _ = cv2.findContours(pieces, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    counts = cv2.LUT(_neighbour_codes(pieces), _NEIGHBOUR_COUNT)
    touching = cv2.dilate(junctions.astype(np.float32), np.ones((3, 3), np.uint8))
    segments: list[_Segment] = []
    for contour in contours:
        path = _traced(contour.reshape(-1, 2), counts)
        for piece in _split_at_corners(path, distance):
            segment = _segment(piece, len(segments), touching, distance, to_branch)
            segment.width_px = _profile_width(piece, lost, reach_px)
            segments.append(segment)
    return segments


def _traced(contour: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """A thin piece's pixels in order from one end to the other, from its contour's walk."""
    at_end = np.flatnonzero(counts[contour[:, 1], contour[:, 0]] <= 1)
    if len(at_end) == 0:
        return contour  # a loop
    rolled = np.roll(contour, -at_end[0], axis=0)
    others = at_end[1:] - at_end[0]
    return rolled[:others[0] + 1] if len(others) else rolled[:1]


def _split_at_corners(path: np.ndarray, distance: np.ndarray) -> list[np.ndarray]:
    """The path cut where it turns by more than CORNER_DEG within a few widths.

    A shaft bends gently; two hairs that leave one follicle opening thin to
    one path turning sharply at the root.
    """
    half_width = _trimmed_mean(distance[path[:, 1], path[:, 0]])
    lag = max(CORNER_LAG_MIN_PX, round(CORNER_LAG * half_width))
    if len(path) < 2 * lag + 1:
        return [path]
    before = (path[lag:-lag] - path[:-2 * lag]).astype(np.float64)
    after = (path[2 * lag:] - path[lag:-lag]).astype(np.float64)
    cosine = (before * after).sum(axis=1) / (np.hypot(*before.T) * np.hypot(*after.T))
    sharp = cosine < math.cos(math.radians(CORNER_DEG))
    if not sharp.any():
        return [path]
    # One cut per run of sharp points, at its sharpest.
    runs = np.split(np.flatnonzero(sharp), np.flatnonzero(np.diff(np.flatnonzero(sharp)) > 1) + 1)
    cuts = [lag + run[np.argmin(cosine[run])] for run in runs]
    return [piece for piece in np.split(path, cuts) if len(piece)]


def _segment(path: np.ndarray, index: int, touching: np.ndarray, distance: np.ndarray,
             to_branch: np.ndarray) -> _Segment:
    """A path as a segment: length (Kulpa's chain code), half-width, and its ends."""
    steps = np.abs(np.diff(path, axis=0)).sum(axis=1)
    length = (KULPA_STRAIGHT * np.count_nonzero(steps == 1)
              + KULPA_DIAGONAL * np.count_nonzero(steps == 2))
    half_width = _trimmed_mean(distance[path[:, 1], path[:, 0]])
    segment = _Segment(path, float(length) + 1.0, half_width, [])
    for ordered in ((path,) if len(path) == 1 else (path, path[::-1])):
        point = ordered[0]
        junction = int(touching[point[1], point[0]])
        reach = float(to_branch[point[1], point[0]]) if junction > 0 else half_width
        segment.ends.append(_End(index, point.astype(np.float64),
                                 _direction(ordered, half_width),
                                 junction if junction > 0 else -1, half_width, reach))
    return segment


def _trimmed_mean(values: np.ndarray) -> float:
    """The mean of the middle half of the values: robust to a bump or a dip (the
    distance transform steps by whole pixels, which a median would keep)."""
    ordered = np.sort(values)
    quarter = len(ordered) // 4
    return float(ordered[quarter:len(ordered) - quarter].mean())


def _profile_width(path: np.ndarray, lost: np.ndarray, reach_px: int) -> float:
    """The shaft's width along a path: the trimmed mean of its darkness profiles' widths at
    half maximum, across the path, every PROFILE_EVERY_PX pixels, to a fraction of a pixel.

    Sampled (bilinear) every PROFILE_STEP_PX along the normal, each side of
    the centre line up to `reach_px`; the width runs from where the
    darkness first falls below half its peak on one side to where it does
    on the other (interpolated between samples). NaN when no profile
    falls below half within reach on both sides.
    """
    if len(path) < 3:
        return math.nan
    index = np.arange(0, len(path), PROFILE_EVERY_PX)
    ahead = path[np.minimum(index + 2, len(path) - 1)] - path[np.maximum(index - 2, 0)]
    tangents = ahead / np.maximum(np.hypot(*ahead.T), 1e-9)[:, None]
    normals = np.stack([-tangents[:, 1], tangents[:, 0]], axis=1)
    offsets = np.arange(-reach_px, reach_px + PROFILE_STEP_PX / 2, PROFILE_STEP_PX)
    xs = (path[index, 0][:, None] + offsets * normals[:, :1]).astype(np.float32)
    ys = (path[index, 1][:, None] + offsets * normals[:, 1:]).astype(np.float32)
    profiles = cv2.remap(lost, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    centre = len(offsets) // 2
    near = round(1.0 / PROFILE_STEP_PX)
    peaks = profiles[:, centre - near:centre + near + 1].max(axis=1)
    sides = [_half_crossing(profiles[:, centre:], peaks),
             _half_crossing(profiles[:, centre::-1], peaks)]
    widths = (sides[0] + sides[1]) * PROFILE_STEP_PX
    widths = widths[np.isfinite(widths) & (peaks > 0)]
    return _trimmed_mean(widths) if len(widths) else math.nan


def _half_crossing(profiles: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """Samples from the start of each profile to where it first falls below half its peak
    (interpolated), NaN where it never does."""
    half = peaks[:, None] / 2
    below = profiles < half
    first = np.argmax(below, axis=1)
    found = below[np.arange(len(profiles)), first] & (first > 0)
    first = np.maximum(first, 1)
    before = profiles[np.arange(len(profiles)), first - 1]
    after = profiles[np.arange(len(profiles)), first]
    step = (before - half[:, 0]) / np.maximum(before - after, 1e-9)
    return np.where(found, first - 1 + step, np.nan)


def _direction(path: np.ndarray, half_width: float) -> np.ndarray:
    """The unit vector a path points in at its first pixel (from its body out through it)."""
    skip = round(END_SKIP * half_width)
    reach = skip + max(round(END_REACH * half_width), END_REACH_MIN_PX)
    body = path[skip:reach] if len(path) > skip + 1 else path[:reach]
    outward = path[0] - body.mean(axis=0)
    norm = float(np.hypot(*outward))
    return outward / norm if norm > 0 else np.zeros(2)


def _without_spurs(segments: list[_Segment]) -> list[_Segment]:
    """The segments less the spurs: short, one end free and the other at a junction."""
    kept = []
    for segment in segments:
        junctions = [end.junction for end in segment.ends if end.junction >= 0]
        free = len(segment.ends) - len(junctions)
        spur = (len(junctions) == 1 and free == 1
                and segment.length_px < SPUR_LENGTH * max(segment.half_width_px, 1.0))
        if not spur:
            kept.append(segment)
    return _renumbered(kept)


def _renumbered(segments: list[_Segment]) -> list[_Segment]:
    """The segments, their ends told their segment's new index."""
    for index, segment in enumerate(segments):
        for end in segment.ends:
            end.segment = index
    return segments


def _joined(segments: list[_Segment], shape: tuple[int, int],
            max_gap_px: float) -> list[tuple[list[int], float]]:
    """Chains of segments joined where they continue each other.

    At a junction, any two of its ends may be joined; elsewhere two free
    ends (not at the frame's edge) up to `max_gap_px` apart: a vellus hair
    under a terminal one, or a shaft whose darkness falters, is cut in the
    mask but continues beyond. Each chain comes with the length of its gaps,
    the distances between the ends joined.
    """
    parent = list(range(len(segments)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    at_junction: dict[int, list[_End]] = {}
    loose: list[_End] = []
    for segment in segments:
        for end in segment.ends:
            if end.junction >= 0:
                at_junction.setdefault(end.junction, []).append(end)
            elif not _at_edge(end.point, shape):
                loose.append(end)
    pairs = [pair for ends in at_junction.values() for pair in _continuations(ends, math.inf)]
    pairs += _continuations(loose, max_gap_px)
    joins = []
    for first, second in pairs:
        first.joined = second.joined = True
        joins.append((first.segment, float(np.hypot(*(second.point - first.point)))))
        parent[root(first.segment)] = root(second.segment)
    chains: dict[int, list[int]] = {}
    for index in range(len(segments)):
        chains.setdefault(root(index), []).append(index)
    gaps = dict.fromkeys(chains, 0.0)
    for segment, gap in joins:
        gaps[root(segment)] += gap
    return [(chain, gaps[key]) for key, chain in chains.items()]


def _at_edge(point: np.ndarray, shape: tuple[int, int]) -> bool:
    """Whether a skeleton end lies by the frame's edge (its shaft goes on outside)."""
    height, width = shape
    x, y = point
    return min(x, y, width - 1 - x, height - 1 - y) <= EDGE_PX


def _continuations(ends: list[_End], max_gap_px: float) -> list[tuple[_End, _End]]:
    """Pairs of ends that continue each other, straightest first, each end in one pair.

    Two ends continue each other when they lie at most `max_gap_px` apart,
    both point across the gap at each other within MAX_TURN_DEG, and the
    thinner shaft is at least MIN_WIDTH_SHARE of the thicker.
    """
    if len(ends) < 2:
        return []
    points = np.array([end.point for end in ends])
    directions = np.array([end.direction for end in ends])
    widths = np.array([end.half_width_px for end in ends])
    segments = np.array([end.segment for end in ends])
    first, second = np.triu_indices(len(ends), k=1)
    gaps = points[second] - points[first]
    spans = np.hypot(*gaps.T)
    near = ((spans <= max_gap_px) & (segments[first] != segments[second])
            & (np.minimum(widths[first], widths[second])
               >= MIN_WIDTH_SHARE * np.maximum(widths[first], widths[second])))
    first, second, gaps, spans = first[near], second[near], gaps[near], spans[near]
    across = gaps / np.maximum(spans, 1e-9)[:, None]
    straight = -(directions[first] * directions[second]).sum(axis=1)
    # (Ends a pixel or two apart have no gap to point across.)
    apart = spans >= 2
    straight = np.where(apart, np.minimum.reduce([
        straight, (directions[first] * across).sum(axis=1),
        -(directions[second] * across).sum(axis=1)]), straight)
    good = straight >= math.cos(math.radians(MAX_TURN_DEG))
    order = np.argsort(-straight[good], kind="stable")
    paired: set[int] = set()
    pairs = []
    for a, b in zip(first[good][order], second[good][order]):
        if a not in paired and b not in paired:
            paired.update((a, b))
            pairs.append((ends[a], ends[b]))
    return pairs


# -- 5. hairs ------------------------------------------------------------------

def _hair(chain: list[int], gaps_px: float, segments: list[_Segment],
          microns_per_pixel: float) -> HairShaft:
    """A chain of segments as a hair: its pixels, length and diameter.

    The length is the segments', the gaps' between the ends joined, and
    each other end's reach (what thinning or a junction's disk took). The
    diameter is the segments' half-widths, weighted by their pixels.
    """
    parts = [segments[index] for index in chain]
    pixels = np.vstack([part.pixels for part in parts])
    length = (sum(part.length_px for part in parts) + gaps_px
              + sum(end.reach_px for part in parts for end in part.ends if not end.joined))
    measured = [part for part in parts if np.isfinite(part.width_px)]
    width = (float(np.average([part.width_px for part in measured],
                              weights=[len(part.pixels) for part in measured]))
             if measured else _diameter_px(max(part.half_width_px for part in parts)))
    return HairShaft(pixels.astype(np.int32), length * microns_per_pixel,
                     width * microns_per_pixel)


def _diameter_px(half_width: float) -> float:
    """A shaft's width from the distance transform on its centre line.

    The distance reaches the centre of the first background pixel, half a
    pixel beyond the shaft's edge: twice it is the width plus one pixel
    when the shaft is an odd number of pixels across. When it is an even
    number, the centre line runs half a pixel off the middle and twice the
    distance is the width itself. Over a shaft's length both happen alike:
    the width is twice the distance less half a pixel.
    """
    return max(2 * half_width - 0.5, 1.0)
