"""Aligned comparison: register a later photo of a scalp area onto an earlier one.

Two stages, on the photos shrunk to WORK_LONG_SIDE (previews are 1280 px,
`services.images.pipeline.PREVIEW_LONG_SIDE`; the transform is given in the
photos' own pixels):

1. Features: ORB keypoints (Rublee et al. 2011) on both photos, matched
   both ways with Lowe's ratio test, and a homography fitted to the mutual
   matches by RANSAC (OpenCV's MAGSAC++). This finds the transform from
   afar (a turn of 10 degrees, a shift of a tenth of the photo), to a pixel
   or two.
2. ECC refinement (`cv2.findTransformECC`, Evangelidis and Psarakis 2008):
   the homography that maximises the correlation of the two photos' fine
   detail, coarse (half the working size) to fine, lands within a tenth of
   a pixel.

Both stages look at the photos' detail: the log luma less its local mean,
so a brighter room, or the phone's lamp from another side, neither hides
the features nor pulls the fit. Whether the pair is aligned is decided by
the thresholds in `domain.analysis`: enough inliers, a high enough share of
the matches, a high enough correlation of the detail after warping, enough
overlap and a sensible transform. A pair that fails any of them comes back
with `aligned=False` and no transform at all.

Images in and out are numpy arrays: RGB `uint8` (height x width x 3, as
`numpy.asarray(pil_image)` gives) or greyscale (height x width). The
transform maps a pixel (x, y, 1) of the later photo to the earlier photo's
pixel coordinates (pixel centres at integer coordinates, as OpenCV warps).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from domain.analysis import (
    ALIGNMENT_MAX_AREA_CHANGE,
    ALIGNMENT_MIN_CORRELATION,
    ALIGNMENT_MIN_INLIER_RATIO,
    ALIGNMENT_MIN_INLIERS,
    ALIGNMENT_MIN_OVERLAP,
)

# The work is done on the photos shrunk to this long side (half a preview):
# pores and hairs are still a few pixels across, and there are four times
# fewer pixels to go through than in the preview.
WORK_LONG_SIDE = 640
# ORB keypoints kept per photo, the strongest first: a few hundred survive
# matching on a pair of photos of one area, a dozen on unrelated photos.
FEATURES = 1500
# Lowe's ratio test: a match counts when its best distance is under this
# share of the second best (Lowe 2004 uses 0.8).
MATCH_RATIO = 0.8
# RANSAC's inlier distance, in working pixels.
RANSAC_THRESHOLD_PX = 2.0
# ECC runs at these shares of the working size, coarse to fine; at each it
# stops after ECC_ITERATIONS or once the correlation gains less than ECC_EPSILON.
ECC_LEVELS = (0.5, 1.0)
ECC_ITERATIONS = 20
ECC_EPSILON = 1e-4
# The light is taken out by removing a Gaussian blur of this sigma (working
# pixels): wider than a pore or a hair's width, narrower than a lamp's gradient.
LIGHT_SIGMA_PX = 6.0
# The overlap's rim left out of the correlation, in working pixels: a warp
# blends the black beyond the photo's edge into it.
OVERLAP_RIM_PX = 2


@dataclass(frozen=True)
class Alignment:
    """How a later photo lies on an earlier one, and how far to trust it.

    `transform` maps the later photo's pixels (x, y, 1) to the earlier's; it
    is None unless `aligned`. `inliers` and `inlier_ratio`: the feature
    matches the transform explains, and their share of all matches;
    `rmse_px`: how far (root mean square, in the earlier photo's pixels)
    those matches lie from where the final transform puts them; `correlation`: the normalised
    cross-correlation of the two photos' detail over their overlap, once
    warped; `overlap`: the share of the earlier photo the later one covers.
    """

    transform: tuple[tuple[float, float, float], ...] | None
    inliers: int
    inlier_ratio: float
    rmse_px: float | None
    correlation: float | None
    overlap: float
    aligned: bool

    @property
    def matrix(self) -> np.ndarray:
        """The transform as a 3x3 array; NotAligned when there is none."""
        if self.transform is None:
            raise NotAligned("These two photos could not be aligned.")
        return np.array(self.transform, dtype=np.float64)


class NotAligned(Exception):
    """An aligned picture was asked of two photos that could not be aligned (HTTP 422)."""


def align(earlier: np.ndarray, later: np.ndarray) -> Alignment:
    """Register `later` onto `earlier`: features and RANSAC, then ECC refinement."""
    first, second = _Working.of(earlier), _Working.of(later)
    first_points, second_points = _matches(first.features, second.features)
    if len(first_points) < ALIGNMENT_MIN_INLIERS:
        return _not_aligned(inliers=0, inlier_ratio=0.0)
    estimate, inlier_mask = cv2.findHomography(second_points, first_points, cv2.USAC_MAGSAC,
                                               RANSAC_THRESHOLD_PX)
    if estimate is None:
        return _not_aligned(inliers=0, inlier_ratio=0.0)
    inlying = inlier_mask.ravel().astype(bool)
    inliers, inlier_ratio = int(inlying.sum()), float(inlying.mean())
    if inliers < ALIGNMENT_MIN_INLIERS or not _plausible(estimate, second.detail.shape):
        return _not_aligned(inliers, inlier_ratio)
    refined = _refine(first.detail, second.detail, estimate)
    if refined is None or not _plausible(refined, second.detail.shape):
        return _not_aligned(inliers, inlier_ratio)
    correlation, overlap = _correlation(first.detail, second.detail, refined)
    transform = first.to_photo @ refined @ np.linalg.inv(second.to_photo)
    transform /= transform[2, 2]
    rmse = _rmse(transform, cv2.perspectiveTransform(second_points[inlying], second.to_photo),
                 cv2.perspectiveTransform(first_points[inlying], first.to_photo))
    aligned = (inlier_ratio >= ALIGNMENT_MIN_INLIER_RATIO
               and correlation >= ALIGNMENT_MIN_CORRELATION
               and overlap >= ALIGNMENT_MIN_OVERLAP)
    return Alignment(tuple(tuple(float(value) for value in row) for row in transform)
                     if aligned else None, inliers, inlier_ratio, rmse, correlation, overlap,
                     aligned)


def aligned_image(earlier: np.ndarray, later: np.ndarray, alignment: Alignment) -> np.ndarray:
    """The later photo warped onto the earlier's frame (black where it does not reach)."""
    height, width = earlier.shape[:2]
    return cv2.warpPerspective(later, alignment.matrix, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def overlay_image(earlier: np.ndarray, later: np.ndarray, alignment: Alignment) -> np.ndarray:
    """The two photos blended half and half where they overlap; the earlier alone elsewhere."""
    warped = aligned_image(earlier, later, alignment)
    blend = cv2.addWeighted(earlier, 0.5, warped, 0.5, 0.0)
    covered = _coverage(earlier, later, alignment)
    return np.where(_like(covered, earlier), blend, earlier)


def difference_image(earlier: np.ndarray, later: np.ndarray, alignment: Alignment) -> np.ndarray:
    """What changed: the absolute difference of the aligned photos, stretched to be seen.

    The later photo's brightness and contrast are first matched to the
    earlier's over the overlap (a brighter room is not a change), then the
    difference is stretched so its 99th percentile is white. Black outside
    the overlap.
    """
    warped = aligned_image(earlier, later, alignment)
    inside = np.broadcast_to(_like(_coverage(earlier, later, alignment), earlier), earlier.shape)
    if not inside.any():
        return np.zeros_like(earlier)
    before, after = (image.astype(np.float32) for image in (earlier, warped))
    difference = np.abs(_matched_exposure(after, before, inside) - before) * inside
    top = float(np.percentile(difference[inside], 99))
    return cv2.convertScaleAbs(difference, alpha=255.0 / top if top > 0 else 1.0)


@dataclass(frozen=True)
class _Working:
    """A photo prepared for aligning: its detail at the working size, and what ORB sees.

    `to_photo` maps working pixels to the photo's own.
    """

    detail: np.ndarray
    features: np.ndarray
    to_photo: np.ndarray

    @classmethod
    def of(cls, photo: np.ndarray) -> _Working:
        luma = photo if photo.ndim == 2 else cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
        factor = min(1.0, WORK_LONG_SIDE / max(luma.shape))
        shrunk = _resized(luma, factor)
        logged = np.log1p(shrunk.astype(np.float32))
        detail = logged - cv2.GaussianBlur(logged, (0, 0), LIGHT_SIGMA_PX)
        # ORB wants 8 bits: the detail, its spread set to a fixed share of the range.
        spread = float(detail.std()) or 1.0
        features = cv2.convertScaleAbs(detail, alpha=40.0 / spread, beta=128.0)
        return cls(detail, features, np.linalg.inv(_scaling(luma.shape, shrunk.shape)))


def _resized(image: np.ndarray, factor: float) -> np.ndarray:
    height, width = image.shape[:2]
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _scaling(full: tuple[int, ...], scaled: tuple[int, ...]) -> np.ndarray:
    """Pixels of an image of shape `full` -> pixels of its resized copy of shape `scaled`.

    Pixel centres: x' = s (x + 0.5) - 0.5, with s the ratio of the widths
    (and of the heights for y), as `cv2.resize` samples.
    """
    sx, sy = scaled[1] / full[1], scaled[0] / full[0]
    return np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]])


def _matches(earlier: np.ndarray, later: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corresponding points of ORB features matched both ways (N x 1 x 2, working pixels)."""
    detector = cv2.ORB_create(nfeatures=FEATURES)
    (earlier_keys, earlier_descriptors), (later_keys, later_descriptors) = (
        detector.detectAndCompute(image, None) for image in (earlier, later))
    if min(len(earlier_keys), len(later_keys)) < 2:
        return np.empty((0, 1, 2), np.float32), np.empty((0, 1, 2), np.float32)
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    forward = _ratio_matches(matcher.knnMatch(later_descriptors, earlier_descriptors, k=2))
    backward = _ratio_matches(matcher.knnMatch(earlier_descriptors, later_descriptors, k=2))
    mutual = [(query, train) for query, train in forward.items() if backward.get(train) == query]
    earlier_points = np.float32([earlier_keys[train].pt for _, train in mutual])
    later_points = np.float32([later_keys[query].pt for query, _ in mutual])
    return earlier_points.reshape(-1, 1, 2), later_points.reshape(-1, 1, 2)


def _ratio_matches(pairs) -> dict[int, int]:
    """Query index -> train index of the matches that pass Lowe's ratio test."""
    return {pair[0].queryIdx: pair[0].trainIdx for pair in pairs
            if len(pair) == 2 and pair[0].distance < MATCH_RATIO * pair[1].distance}


def _plausible(transform: np.ndarray, shape: tuple[int, int]) -> bool:
    """The later photo's frame lands as a convex quadrilateral of about the same area."""
    corners = _corners(shape)
    mapped = cv2.perspectiveTransform(corners, transform)
    if not np.isfinite(mapped).all() or not cv2.isContourConvex(mapped.astype(np.float32)):
        return False
    change = cv2.contourArea(mapped.astype(np.float32)) / cv2.contourArea(corners)
    return 1 / ALIGNMENT_MAX_AREA_CHANGE <= change <= ALIGNMENT_MAX_AREA_CHANGE


def _corners(shape: tuple[int, int]) -> np.ndarray:
    height, width = shape[:2]
    return np.float32([[0, 0], [width - 1, 0], [width - 1, height - 1],
                       [0, height - 1]]).reshape(-1, 1, 2)


def _refine(earlier: np.ndarray, later: np.ndarray, estimate: np.ndarray) -> np.ndarray | None:
    """The homography after ECC, coarse to fine (working pixels); None if ECC diverges."""
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ECC_ITERATIONS, ECC_EPSILON)
    transform = estimate
    for level in ECC_LEVELS:
        template, moving = _resized(earlier, level), _resized(later, level)
        to_template = _scaling(earlier.shape, template.shape)
        to_moving = _scaling(later.shape, moving.shape)
        scaled = to_template @ transform @ np.linalg.inv(to_moving)
        # ECC's warp maps the template's pixels (the earlier photo's) to the input's.
        warp = np.linalg.inv(scaled).astype(np.float32)
        try:
            _, warp = cv2.findTransformECC(template, moving, warp, cv2.MOTION_HOMOGRAPHY,
                                           criteria, None, 3)
        except cv2.error:
            return None
        transform = (np.linalg.inv(to_template) @ np.linalg.inv(warp.astype(np.float64))
                     @ to_moving)
    return transform


def _correlation(earlier: np.ndarray, later: np.ndarray,
                 transform: np.ndarray) -> tuple[float, float]:
    """The NCC of the two details over their overlap once warped, and the overlap's share."""
    height, width = earlier.shape
    warped = cv2.warpPerspective(later, transform, (width, height), flags=cv2.INTER_LINEAR)
    inside = cv2.warpPerspective(np.ones(later.shape, dtype=np.uint8), transform,
                                 (width, height), flags=cv2.INTER_NEAREST)
    rim = np.ones((2 * OVERLAP_RIM_PX + 1,) * 2, np.uint8)
    inside = cv2.erode(inside, rim) > 0
    overlap = float(inside.mean())
    if not inside.any():
        return 0.0, overlap
    a, b = earlier[inside], warped[inside]
    a, b = a - a.mean(), b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return (float((a * b).sum() / denominator) if denominator > 0 else 0.0), overlap


def _rmse(transform: np.ndarray, later: np.ndarray, earlier: np.ndarray) -> float:
    """Root mean square distance, in preview pixels, of the matches from the transform."""
    mapped = cv2.perspectiveTransform(later.astype(np.float64), transform)
    return float(np.sqrt(np.mean(np.sum((mapped - earlier) ** 2, axis=-1))))


def _not_aligned(inliers: int, inlier_ratio: float) -> Alignment:
    return Alignment(None, inliers, inlier_ratio, None, None, 0.0, False)


def _coverage(earlier: np.ndarray, later: np.ndarray, alignment: Alignment) -> np.ndarray:
    """Where the warped later photo covers the earlier's frame (bool, height x width)."""
    height, width = earlier.shape[:2]
    ones = np.ones(later.shape[:2], dtype=np.uint8)
    return cv2.warpPerspective(ones, alignment.matrix, (width, height),
                               flags=cv2.INTER_NEAREST) > 0


def _like(mask: np.ndarray, image: np.ndarray) -> np.ndarray:
    """A 2-D mask shaped to broadcast over `image`."""
    return mask[..., None] if image.ndim == 3 else mask


def _matched_exposure(image: np.ndarray, reference: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """`image` scaled and offset so its mean and spread over `inside` match the reference's."""
    mean, reference_mean = image[inside].mean(), reference[inside].mean()
    spread, reference_spread = image[inside].std(), reference[inside].std()
    gain = reference_spread / spread if spread > 0 else 1.0
    return (image - mean) * gain + reference_mean
