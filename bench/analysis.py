"""Benchmark `analysis`: photo analysis against generated ground truth, on several seeds.

For each of SEEDS (the tests' seed and two others), on one core
(`cv2.setNumThreads(1)`):

- alignment: pairs of one area at the preview's size (1280 x 960) through
  known similarity and perspective transforms, and unrelated pairs; the
  corner error (the largest distance between the later photo's corners
  mapped by the estimated and the true transform) and the share aligned;
- hair counts: 1920 x 1080 trichoscopy images of 20-200 hairs, and pairs of
  one spot with hairs lost and grown; the errors as `tests/test_hair_analysis.py`
  judges them.

Time per image is the median, and set against a baseline measured in the
same run on the same images: decoding them from JPEG (quality 90) with
`cv2.imdecode`, the least any analysis of a stored photo costs.

Goals: corner error p95 under 1 px and no unrelated pair aligned; hair count
error median <= 5 % and p90 <= 10 %, mean diameter error <= 10 %, ratio error
median <= 15 %, count change error median <= 3 points; under 1 s per
1920 x 1080 image.
"""

from __future__ import annotations

import statistics
import time

import cv2
import numpy as np

from services.images.alignment import align
from services.images.hair_analysis import analyse
from tests import analysis_samples as synthetic

SEEDS = (20240611, 1, 2)
MIN_IMAGES = 20
MIN_PAIRS = 16
MIN_ALIGNMENT_PAIRS = 10
PAIR_HAIRS = (100, 200)
GOAL_CORNER_P95_PX = 1.0
GOAL_COUNT_MEDIAN, GOAL_COUNT_P90 = 0.05, 0.10
GOAL_DIAMETER_MEAN = 0.10
GOAL_RATIO_MEDIAN = 0.15
GOAL_CHANGE_MEDIAN_PP = 3.0
GOAL_SECONDS_PER_IMAGE = 1.0


def run(duration_s: int) -> bool:
    """Each seed for about `duration_s` seconds of analysis (and at least the minimum sets)."""
    cv2.setNumThreads(1)
    rows = [(seed, _alignment(seed, duration_s), _hairs(seed, duration_s)) for seed in SEEDS]
    return _report(rows)


def _alignment(seed: int, duration_s: float) -> dict:
    rng = np.random.default_rng(seed)
    errors, unrelated_aligned, seconds, baseline = [], 0, [], []
    started = time.monotonic()
    while len(errors) < MIN_ALIGNMENT_PAIRS or time.monotonic() - started < duration_s / 4:
        pair = synthetic.alignment_pair(rng, perspective=len(errors) % 2 == 1,
                                        second_exposure=len(errors) % 3 == 2)
        baseline.append(_decode_seconds(pair.earlier) + _decode_seconds(pair.later))
        tick = time.perf_counter()
        result = align(pair.earlier, pair.later)
        seconds.append(time.perf_counter() - tick)
        errors.append(_corner_error(result.matrix, pair.truth, pair.later.shape)
                      if result.aligned else np.inf)
        unrelated = synthetic.unrelated_pair(rng)
        unrelated_aligned += align(unrelated.earlier, unrelated.later).aligned
    return {"pairs": len(errors), "aligned": sum(np.isfinite(errors)),
            "corner_p95": float(np.percentile(errors, 95)), "corner_max": float(max(errors)),
            "unrelated_aligned": unrelated_aligned,
            "ms": statistics.median(seconds) * 1000, "baseline_ms": statistics.median(baseline) * 1000}


def _hairs(seed: int, duration_s: float) -> dict:
    rng = np.random.default_rng(seed)
    counts, diameters, ratios, seconds, baseline = [], [], [], [], []
    started = time.monotonic()
    while len(counts) < MIN_IMAGES or time.monotonic() - started < duration_s:
        image = synthetic.trichoscopy_image(rng)
        baseline.append(_decode_seconds(image.image))
        tick = time.perf_counter()
        found = analyse(image.image, image.microns_per_pixel)
        seconds.append(time.perf_counter() - tick)
        truth = image.truth
        counts.append(abs(found.hair_count - truth.hair_count) / truth.hair_count)
        diameters.append(abs(found.mean_shaft_diameter_um - truth.mean_diameter_um)
                         / truth.mean_diameter_um)
        true_ratio = truth.terminal / truth.vellus
        ratios.append(abs((found.terminal_vellus_ratio or np.inf) - true_ratio) / true_ratio)
    changes = []
    for _ in range(MIN_PAIRS):
        first, second = synthetic.trichoscopy_pair(rng, PAIR_HAIRS)
        found = [analyse(visit.image, visit.microns_per_pixel).hair_count
                 for visit in (first, second)]
        true = (second.truth.hair_count - first.truth.hair_count) / first.truth.hair_count
        changes.append(abs((found[1] - found[0]) / found[0] - true) * 100)
    return {"images": len(counts), "count_median": float(np.median(counts)),
            "count_p90": float(np.percentile(counts, 90)), "diameter_mean": float(np.mean(diameters)),
            "ratio_median": float(np.median(ratios)), "change_median": float(np.median(changes)),
            "change_p90": float(np.percentile(changes, 90)), "pairs": len(changes),
            "ms": statistics.median(seconds) * 1000, "baseline_ms": statistics.median(baseline) * 1000}


def _decode_seconds(image: np.ndarray) -> float:
    """How long decoding this image from a JPEG of quality 90 takes."""
    _, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    tick = time.perf_counter()
    cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return time.perf_counter() - tick


def _corner_error(estimate: np.ndarray, truth: np.ndarray, shape: tuple[int, ...]) -> float:
    height, width = shape[:2]
    corners = np.float64([[0, 0], [width - 1, 0], [width - 1, height - 1],
                          [0, height - 1]]).reshape(-1, 1, 2)
    mapped = [cv2.perspectiveTransform(corners, transform) for transform in (estimate, truth)]
    return float(np.max(np.hypot(*(mapped[0] - mapped[1]).reshape(-1, 2).T)))


def _report(rows: list[tuple[int, dict, dict]]) -> bool:
    print()
    print(f"{'seed':>9} {'aligned':>8} {'corner p95':>11} {'max':>6} {'unrel.':>7} "
          f"{'ms/pair':>8} {'x decode':>9}")
    for seed, pairs, _ in rows:
        print(f"{seed:>9} {pairs['aligned']:>4}/{pairs['pairs']:<3} {pairs['corner_p95']:>9.2f}px "
              f"{pairs['corner_max']:>6.2f} {pairs['unrelated_aligned']:>7} {pairs['ms']:>8.0f} "
              f"{pairs['ms'] / pairs['baseline_ms']:>8.1f}x")
    print()
    print(f"{'seed':>9} {'images':>7} {'count med':>10} {'p90':>6} {'diam':>6} {'ratio med':>10} "
          f"{'change med':>11} {'p90':>6} {'ms/image':>9} {'x decode':>9}")
    for seed, _, hairs in rows:
        print(f"{seed:>9} {hairs['images']:>7} {hairs['count_median']:>10.1%} "
              f"{hairs['count_p90']:>6.1%} {hairs['diameter_mean']:>6.1%} "
              f"{hairs['ratio_median']:>10.1%} {hairs['change_median']:>9.1f}pp "
              f"{hairs['change_p90']:>4.1f}pp {hairs['ms']:>9.0f} "
              f"{hairs['ms'] / hairs['baseline_ms']:>8.1f}x")
    print()
    checks = []
    for seed, pairs, hairs in rows:
        checks += [
            (pairs["corner_p95"] < GOAL_CORNER_P95_PX and pairs["unrelated_aligned"] == 0,
             f"{seed}: corner p95 {pairs['corner_p95']:.2f} px, "
             + f"unrelated aligned {pairs['unrelated_aligned']}"),
            (hairs["count_median"] <= GOAL_COUNT_MEDIAN and hairs["count_p90"] <= GOAL_COUNT_P90,
             f"{seed}: count error median {hairs['count_median']:.1%}, p90 {hairs['count_p90']:.1%}"),
            (hairs["diameter_mean"] <= GOAL_DIAMETER_MEAN
             and hairs["ratio_median"] <= GOAL_RATIO_MEDIAN,
             f"{seed}: diameter {hairs['diameter_mean']:.1%}, ratio {hairs['ratio_median']:.1%}"),
            (hairs["change_median"] <= GOAL_CHANGE_MEDIAN_PP,
             f"{seed}: count change error median {hairs['change_median']:.1f} pp"),
            (hairs["ms"] / 1000 < GOAL_SECONDS_PER_IMAGE,
             f"{seed}: {hairs['ms']:.0f} ms per 1920 x 1080 image (goal < 1 s)"),
        ]
    for met, line in checks:
        print(f"{line:<64} {'ok' if met else 'MISSED'}")
    return all(met for met, _ in checks)
