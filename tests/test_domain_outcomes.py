"""DOMAIN.md section 6: the measurement vocabulary and change against the baseline."""

from datetime import date, datetime, timedelta, timezone

import pytest

from domain.errors import NotAllowed, RuleViolation
from domain.outcomes import (
    GLOBAL_ASSESSMENT_RANGE,
    LUDWIG_STAGES,
    NORWOOD_STAGES,
    Progress,
    change_percent,
    measurement,
    progress,
    validate_observed_at,
)


def test_stages():
    assert NORWOOD_STAGES == ("1", "2", "2A", "3", "3A", "3V", "4", "4A", "5", "5A", "6", "7")
    assert LUDWIG_STAGES == ("I", "II", "III")
    assert GLOBAL_ASSESSMENT_RANGE == (-3, 3)


@pytest.mark.parametrize(
    ("baseline", "latest", "change"),
    [
        pytest.param(100, 191.4, 91.4, id="dhurat-microneedling"),
        pytest.param(100, 122.2, 22.2, id="dhurat-lotion-alone"),
        pytest.param(150, 100, -33.3, id="loss"),
        pytest.param(80, 80, 0.0, id="no-change"),
        pytest.param(3, 4, 33.3, id="rounded"),
        pytest.param(0, 12, None, id="zero-baseline"),
    ],
)
def test_change_percent(baseline, latest, change):
    assert change_percent(baseline, latest) == change


# -- recording measurements ---------------------------------------------------

VALID = [
    ("hair_count_per_cm2", 180, "vertex", (180.0, None)),
    ("hair_count_per_cm2", 0, "frontal", (0.0, None)),
    ("hair_count_per_cm2", 1000, "frontal", (1000.0, None)),
    ("hair_thickness_um", 62.5, "frontal", (62.5, None)),
    ("shedding_count", 85, None, (85.0, None)),
    ("norwood_stage", "3v", None, (None, "3V")),
    ("norwood_stage", 3, None, (None, "3")),
    ("ludwig_stage", "II", None, (None, "II")),
    ("global_photo_assessment", -3, None, (-3.0, None)),
    ("global_photo_assessment", 2, "vertex", (2.0, None)),
]


@pytest.mark.parametrize(("kind", "value", "area", "stored"), VALID,
                         ids=[f"{k}={v}" for k, v, _, _ in VALID])
def test_valid_measurements(kind, value, area, stored):
    recorded = measurement(kind, value, area, by_clinician=True)
    assert (recorded.number, recorded.stage) == stored
    assert recorded.area == area


INVALID = [
    ("hair_count_per_cm2", 180, None, "area"),
    ("hair_count_per_cm2", -1, "vertex", "value"),
    ("hair_count_per_cm2", 1000.5, "vertex", "value"),
    ("hair_count_per_cm2", "many", "vertex", "value"),
    ("hair_thickness_um", 4, "vertex", "value"),
    ("hair_thickness_um", 80, None, "area"),
    ("shedding_count", 12.5, None, "value"),
    ("shedding_count", 5001, None, "value"),
    ("shedding_count", 40, "vertex", "area"),
    ("norwood_stage", "8", None, "value"),
    ("norwood_stage", "2B", None, "value"),
    ("norwood_stage", 3.5, None, "value"),
    ("ludwig_stage", "IV", None, "value"),
    ("ludwig_stage", "II", "vertex", "area"),
    ("global_photo_assessment", 4, None, "value"),
    ("global_photo_assessment", 1.5, None, "value"),
]


@pytest.mark.parametrize(("kind", "value", "area", "field"), INVALID,
                         ids=[f"{k}={v}@{a}" for k, v, a, _ in INVALID])
def test_invalid_measurements(kind, value, area, field):
    with pytest.raises(RuleViolation) as error:
        measurement(kind, value, area, by_clinician=True)
    assert error.value.field == field


@pytest.mark.parametrize("kind", ["hair_count_per_cm2", "hair_thickness_um", "norwood_stage",
                                  "ludwig_stage", "global_photo_assessment"])
def test_patients_record_their_shedding_only(kind):
    with pytest.raises(NotAllowed):
        measurement(kind, 1, "vertex", by_clinician=False)
    assert measurement("shedding_count", 60, None, by_clinician=False).number == 60.0


def test_progress_is_first_against_latest_per_kind_and_area():
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    observations = [
        ("hair_count_per_cm2", "vertex", t0 + timedelta(days=84), 191.4),
        ("hair_count_per_cm2", "vertex", t0, 100.0),
        ("hair_count_per_cm2", "vertex", t0 + timedelta(days=42), 150.0),
        ("hair_count_per_cm2", "frontal", t0, 120.0),
        ("shedding_count", None, t0, 150.0),
        ("shedding_count", None, t0 + timedelta(days=30), 75.0),
        ("norwood_stage", None, t0, None),
        ("global_photo_assessment", None, t0 + timedelta(days=30), 2.0),
    ]
    assert progress(observations) == [
        Progress("hair_count_per_cm2", "frontal", 120.0, 120.0, 0.0),
        Progress("hair_count_per_cm2", "vertex", 100.0, 191.4, 91.4),
        Progress("shedding_count", None, 150.0, 75.0, -50.0),
        Progress("global_photo_assessment", None, 2.0, 2.0, None),
    ]


NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
START = date(2026, 11, 1)


# v2: dated no later than now (5 minutes of clock skew), no earlier than a year before the start.
@pytest.mark.parametrize(
    ("observed_at", "valid"),
    [
        pytest.param(NOW, True, id="now"),
        pytest.param(NOW + timedelta(minutes=5), True, id="clock-skew"),
        pytest.param(NOW + timedelta(minutes=6), False, id="future"),
        pytest.param(NOW + timedelta(days=3000), False, id="3000-days-ahead"),
        pytest.param(datetime(2025, 11, 1, tzinfo=timezone.utc), True, id="a-year-before-start"),
        pytest.param(datetime(2025, 10, 31, 23, 59, tzinfo=timezone.utc), False,
                     id="over-a-year-before-start"),
    ],
)
def test_a_measurement_is_dated_around_its_course(observed_at, valid):
    if valid:
        validate_observed_at(observed_at, NOW, START)
    else:
        with pytest.raises(RuleViolation) as refused:
            validate_observed_at(observed_at, NOW, START)
        assert refused.value.field == "observed_at"
