"""Measurements (DOMAIN.md section 6): what can be recorded, by whom, and progress against the baseline."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.clock import in_the_future
from domain.errors import NotAllowed, RuleViolation

# Norwood-Hamilton scale for male pattern hair loss.
NORWOOD_STAGES = ("1", "2", "2A", "3", "3A", "3V", "4", "4A", "5", "5A", "6", "7")
# Ludwig scale for female pattern hair loss.
LUDWIG_STAGES = ("I", "II", "III")
# The 7-point global photographic assessment.
GLOBAL_ASSESSMENT_RANGE = (-3, 3)

HAIR_COUNT = "hair_count_per_cm2"
HAIR_THICKNESS = "hair_thickness_um"
SHEDDING = "shedding_count"
NORWOOD = "norwood_stage"
LUDWIG = "ludwig_stage"
GLOBAL_ASSESSMENT = "global_photo_assessment"
OBSERVATION_KINDS = (HAIR_COUNT, HAIR_THICKNESS, SHEDDING, NORWOOD, LUDWIG, GLOBAL_ASSESSMENT)

# [product decision] plausible bounds: trichoscopy counts stay well under 1000
# hairs/cm2, shafts between 5 and 200 um, a day's shedding under 5000 hairs.
NUMBER_RANGES = {
    HAIR_COUNT: (0, 1000),
    HAIR_THICKNESS: (5, 200),
    SHEDDING: (0, 5000),
    GLOBAL_ASSESSMENT: GLOBAL_ASSESSMENT_RANGE,
}
# Counts that are whole numbers.
WHOLE_NUMBERS = (SHEDDING, GLOBAL_ASSESSMENT)
STAGES = {NORWOOD: NORWOOD_STAGES, LUDWIG: LUDWIG_STAGES}
# Trichoscopy measures one spot of the scalp, so its figures mean nothing without it.
NEEDS_AREA = (HAIR_COUNT, HAIR_THICKNESS)
# Whole-head measures: an area would be misleading.
NO_AREA = (SHEDDING, NORWOOD, LUDWIG)
# "daily shedding count (patient)": the only measure a patient records.
PATIENT_KINDS = (SHEDDING,)
# Numeric kinds followed in the course status `progress`.
PROGRESS_KINDS = (HAIR_COUNT, HAIR_THICKNESS, SHEDDING, GLOBAL_ASSESSMENT)


@dataclass(frozen=True)
class Measurement:
    """A validated observation: `number` for measures, `stage` for stagings."""

    kind: str
    number: float | None
    stage: str | None
    area: str | None


def measurement(kind: str, value, area: str | None, by_clinician: bool) -> Measurement:
    """Validate one observation of `kind`; patients may record their shedding only."""
    if not by_clinician and kind not in PATIENT_KINDS:
        raise NotAllowed(f"Patients record {', '.join(PATIENT_KINDS)} only; "
                         f"{kind} is recorded by a clinician.")
    if kind in NEEDS_AREA and area is None:
        raise RuleViolation(f"{kind} is measured at a scalp area: give the area.", "area")
    if kind in NO_AREA and area is not None:
        raise RuleViolation(f"{kind} is a whole-head measure: leave the area out.", "area")
    if kind in STAGES:
        # A Norwood stage of 3 sent as a number is still stage "3".
        stage = str(value).upper() if isinstance(value, (str, int)) else None
        if stage not in STAGES[kind]:
            raise RuleViolation(f"{kind} is one of {', '.join(STAGES[kind])}.", "value")
        return Measurement(kind, None, stage, area)
    if isinstance(value, str):
        raise RuleViolation(f"{kind} is a number.", "value")
    low, high = NUMBER_RANGES[kind]
    if not low <= value <= high:
        raise RuleViolation(f"{kind} is between {low} and {high}.", "value")
    if kind in WHOLE_NUMBERS and value != int(value):
        raise RuleViolation(f"{kind} is a whole number.", "value")
    return Measurement(kind, float(value), None, area)


# v2 [product decision] a measurement is dated no earlier than a year before the course starts
OBSERVED_MAX_DAYS_BEFORE_START = 365


def validate_observed_at(observed_at: datetime, now: datetime, start_date: date) -> None:
    """A measurement is dated no later than now and no earlier than a year before the course."""
    if in_the_future(observed_at, now):
        raise RuleViolation("A measurement cannot be dated in the future.", "observed_at")
    earliest = start_date - timedelta(days=OBSERVED_MAX_DAYS_BEFORE_START)
    if observed_at.date() < earliest:
        raise RuleViolation(f"A measurement of this course is dated {earliest.isoformat()} "
                            "or later.", "observed_at")


def change_percent(baseline: float, latest: float) -> float | None:
    """The change from the baseline in percent, to one decimal; None for a zero baseline."""
    if baseline == 0:
        return None
    return round((latest - baseline) / baseline * 100, 1)


@dataclass(frozen=True)
class Progress:
    """Where a measure stands against its baseline at the same area."""

    kind: str
    area: str | None
    baseline: float
    latest: float
    change_percent: float | None


def progress(observations: Iterable[tuple[str, str | None, datetime, float | None]]) -> list[Progress]:
    """Baseline (first) and latest value per kind and area, for the numeric kinds.

    `observations` are (kind, area, observed_at, number) in any order.
    """
    first: dict[tuple[str, str | None], tuple[datetime, float]] = {}
    last: dict[tuple[str, str | None], tuple[datetime, float]] = {}
    for kind, area, observed_at, number in observations:
        if kind not in PROGRESS_KINDS or number is None:
            continue
        key = (kind, area)
        if key not in first or observed_at < first[key][0]:
            first[key] = (observed_at, number)
        if key not in last or observed_at >= last[key][0]:
            last[key] = (observed_at, number)
    ordered = sorted(first, key=lambda key: (PROGRESS_KINDS.index(key[0]), key[1] or ""))
    result = []
    for kind, area in ordered:
        baseline, latest = first[(kind, area)][1], last[(kind, area)][1]
        # A global assessment is itself a change score: a percent of it means nothing.
        change = None if kind == GLOBAL_ASSESSMENT else change_percent(baseline, latest)
        result.append(Progress(kind, area, baseline, latest, change))
    return result
