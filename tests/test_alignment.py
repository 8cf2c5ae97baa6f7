"""Aligned comparison against generated ground truth (`tests.analysis_samples`).

Pairs are generated at the preview's size (1280 x 960) from a fixed seed: one
scalp photographed twice, the second time through a known similarity
(rotation up to 10 degrees, scale +-8 %, shift up to 5 % of the width) or,
every other pair, a similarity and a perspective keystone; under other light
(brightness +-20 %, another gradient and vignette), with a fifth of the
hairs lying differently, both re-encoded as JPEG, every third pair with a
noisier second exposure.

How a registration is judged: the corner error of a pair is the largest
distance, in preview pixels, between where the estimated and the true
transform put the later photo's four corners (the corners are where a
transform errs most, so no pixel of the photo moves further). Unrelated
pairs must never come back aligned, nor with any transform.
"""

from __future__ import annotations

import numpy as np
import pytest

from services.images.alignment import (
    Alignment,
    NotAligned,
    align,
    aligned_image,
    difference_image,
    overlay_image,
)
from tests import analysis_samples as synthetic

SEED = 20240611
PAIRS = 50
MAX_P95_CORNER_ERROR_PX = 1.0


def corner_error(estimate: np.ndarray, truth: np.ndarray, shape: tuple[int, ...]) -> float:
    """The largest distance between the later photo's corners mapped by the two transforms."""
    height, width = shape[:2]
    corners = np.array([[0, 0, 1], [width - 1, 0, 1], [width - 1, height - 1, 1],
                        [0, height - 1, 1]], dtype=np.float64).T
    mapped = [transform @ corners for transform in (estimate, truth)]
    points = [(xyw[:2] / xyw[2]).T for xyw in mapped]
    return float(np.max(np.hypot(*(points[0] - points[1]).T)))


@pytest.fixture(scope="module")
def pairs() -> list[synthetic.AlignmentPair]:
    rng = np.random.default_rng(SEED)
    return [synthetic.alignment_pair(rng, perspective=index % 2 == 1,
                                     second_exposure=index % 3 == 2)
            for index in range(PAIRS)]


@pytest.fixture(scope="module")
def alignments(pairs) -> list[Alignment]:
    return [align(pair.earlier, pair.later) for pair in pairs]


def test_pairs_of_one_area_align_within_a_pixel_at_the_corners(pairs, alignments, figure):
    errors = [corner_error(result.matrix, pair.truth, pair.later.shape) if result.aligned
              else np.inf for pair, result in zip(pairs, alignments)]
    p95 = float(np.percentile(errors, 95))
    figure(f"alignment: {sum(r.aligned for r in alignments)}/{PAIRS} pairs aligned, corner error "
           f"median {np.median(errors):.2f} px, p95 {p95:.2f} px, max {max(errors):.2f} px; "
           f"inliers >= {min(r.inliers for r in alignments)}, correlation >= "
           f"{min(r.correlation or 0 for r in alignments):.2f}")
    assert all(result.aligned for result in alignments)
    assert p95 < MAX_P95_CORNER_ERROR_PX


def test_an_aligned_pair_reports_its_quality(pairs, alignments):
    result = alignments[0]
    assert len(result.transform) == 3 and all(len(row) == 3 for row in result.transform)
    assert result.transform[2][2] == pytest.approx(1.0)
    assert result.inliers >= 20 and 0 < result.inlier_ratio <= 1
    assert 0 <= result.rmse_px < 5
    assert 0.3 <= result.correlation <= 1 and 0.5 <= result.overlap <= 1


def test_unrelated_photos_never_align(pairs, figure):
    """The earlier photo of each pair against the later of the next (another scalp), and
    ten pairs of one person's scalp at two areas with nothing in common."""
    rng = np.random.default_rng(SEED + 1)
    unrelated = [(pair.earlier, after.later) for pair, after in zip(pairs, pairs[1:] + pairs[:1])]
    unrelated += [(pair.earlier, pair.later)
                  for pair in (synthetic.unrelated_pair(rng) for _ in range(10))]
    results = [align(earlier, later) for earlier, later in unrelated]
    figure(f"alignment: {sum(r.aligned for r in results)}/{len(results)} unrelated pairs "
           f"aligned; inliers at most {max(r.inliers for r in results)}")
    assert not any(result.aligned for result in results)
    assert all(result.transform is None for result in results)


def test_a_photo_aligns_onto_itself_with_the_identity(pairs):
    photo = pairs[0].earlier
    result = align(photo, photo)
    assert result.aligned
    assert corner_error(result.matrix, np.eye(3), photo.shape) < 0.05
    assert result.correlation > 0.99


@pytest.mark.parametrize("blank", [np.full((960, 1280, 3), 128, np.uint8),
                                   np.zeros((960, 1280), np.uint8)], ids=["grey", "black"])
def test_a_featureless_photo_does_not_align(pairs, blank):
    result = align(pairs[0].earlier, blank)
    assert not result.aligned and result.transform is None and result.inliers == 0


def test_the_renderings_are_in_the_earlier_photos_frame(pairs, alignments):
    pair, result = pairs[1], alignments[1]
    for render in (aligned_image, overlay_image, difference_image):
        picture = render(pair.earlier, pair.later, result)
        assert picture.shape == pair.earlier.shape and picture.dtype == np.uint8


def test_the_difference_of_an_aligned_pair_is_darker_than_of_a_misaligned_one(pairs, alignments):
    """Aligned, only light, noise and the moved hairs differ; shifted by 20 px, everything."""
    pair, result = pairs[2], alignments[2]
    shifted = Alignment(tuple(tuple(row) for row in
                              (np.array([[1, 0, 20], [0, 1, 0], [0, 0, 1]]) @ result.matrix)),
                        result.inliers, result.inlier_ratio, result.rmse_px, result.correlation,
                        result.overlap, True)
    aligned = difference_image(pair.earlier, pair.later, result).mean()
    misaligned = difference_image(pair.earlier, pair.later, shifted).mean()
    assert aligned < 0.8 * misaligned


def test_the_overlay_is_the_earlier_photo_where_the_later_does_not_reach(pairs, alignments):
    pair, result = pairs[3], alignments[3]
    overlay = overlay_image(pair.earlier, pair.later, result)
    warped = aligned_image(pair.earlier, pair.later, result)
    outside = warped.sum(axis=-1) == 0
    assert np.array_equal(overlay[outside], pair.earlier[outside])


def test_no_picture_is_made_of_photos_that_do_not_align(pairs):
    result = align(pairs[0].earlier, pairs[1].later)
    with pytest.raises(NotAligned):
        aligned_image(pairs[0].earlier, pairs[1].later, result)
