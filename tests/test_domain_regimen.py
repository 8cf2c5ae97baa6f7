"""DOMAIN.md section 1, the regimen table: phases and the interval before each session."""

import pytest

from domain.errors import RuleViolation
from domain.regimen import CLINIC, HOME, INTENSIVE, STANDARD, Interval, Regimen

WEEK = Interval(target=7, window_start=7, window_end=10, minimum=7)
TWO_WEEKS = Interval(target=14, window_start=14, window_end=17, minimum=7)
MONTH = Interval(target=30, window_start=28, window_end=35, minimum=7)
HOME_FIRST = Interval(target=10, window_start=10, window_end=13, minimum=10)


@pytest.mark.parametrize(
    ("regimen", "number", "phase"),
    [
        pytest.param(Regimen(STANDARD, CLINIC), 1, "course", id="standard-1"),
        pytest.param(Regimen(STANDARD, CLINIC), 10, "course", id="standard-10"),
        pytest.param(Regimen(STANDARD, HOME), 11, "course", id="standard-11"),
        pytest.param(Regimen(INTENSIVE, CLINIC), 1, "weekly", id="intensive-5-5-1"),
        pytest.param(Regimen(INTENSIVE, CLINIC), 5, "weekly", id="intensive-5-5-W"),
        pytest.param(Regimen(INTENSIVE, CLINIC), 6, "biweekly", id="intensive-5-5-W+1"),
        pytest.param(Regimen(INTENSIVE, CLINIC), 10, "biweekly", id="intensive-5-5-W+B"),
        pytest.param(Regimen(INTENSIVE, CLINIC), 11, "maintenance", id="intensive-5-5-W+B+1"),
        pytest.param(Regimen(INTENSIVE, CLINIC), 40, "maintenance", id="intensive-5-5-40"),
        pytest.param(Regimen(INTENSIVE, HOME, 4, 4), 4, "weekly", id="intensive-4-4-W"),
        pytest.param(Regimen(INTENSIVE, HOME, 4, 4), 5, "biweekly", id="intensive-4-4-W+1"),
        pytest.param(Regimen(INTENSIVE, HOME, 4, 4), 8, "biweekly", id="intensive-4-4-W+B"),
        pytest.param(Regimen(INTENSIVE, HOME, 4, 4), 9, "maintenance", id="intensive-4-4-W+B+1"),
        pytest.param(Regimen(INTENSIVE, CLINIC, 4, 5), 9, "biweekly", id="intensive-4-5-W+B"),
        pytest.param(Regimen(INTENSIVE, HOME, 5, 4), 10, "maintenance", id="intensive-5-4-W+B+1"),
    ],
)
def test_phase_of(regimen, number, phase):
    assert regimen.phase_of(number) == phase


@pytest.mark.parametrize(
    ("regimen", "number", "interval"),
    [
        pytest.param(Regimen(STANDARD, CLINIC), 2, WEEK, id="standard-clinic-1to2"),
        pytest.param(Regimen(STANDARD, CLINIC), 3, WEEK, id="standard-clinic-2to3"),
        pytest.param(Regimen(STANDARD, CLINIC), 10, WEEK, id="standard-clinic-9to10"),
        pytest.param(Regimen(STANDARD, HOME), 2, HOME_FIRST, id="standard-home-1to2"),
        pytest.param(Regimen(STANDARD, HOME), 3, HOME_FIRST, id="standard-home-2to3"),
        pytest.param(Regimen(STANDARD, HOME), 4, WEEK, id="standard-home-3to4"),
        pytest.param(Regimen(INTENSIVE, CLINIC), 2, WEEK, id="intensive-clinic-weekly"),
        pytest.param(Regimen(INTENSIVE, CLINIC), 5, WEEK, id="intensive-clinic-into-W"),
        pytest.param(Regimen(INTENSIVE, CLINIC), 6, TWO_WEEKS, id="intensive-clinic-W-to-W+1"),
        pytest.param(Regimen(INTENSIVE, CLINIC), 10, TWO_WEEKS, id="intensive-clinic-into-W+B"),
        pytest.param(Regimen(INTENSIVE, CLINIC), 11, MONTH, id="intensive-clinic-W+B-to-W+B+1"),
        pytest.param(Regimen(INTENSIVE, CLINIC), 12, MONTH, id="intensive-clinic-maintenance"),
        pytest.param(Regimen(INTENSIVE, HOME), 2, HOME_FIRST, id="intensive-home-1to2"),
        pytest.param(Regimen(INTENSIVE, HOME), 3, HOME_FIRST, id="intensive-home-2to3"),
        pytest.param(Regimen(INTENSIVE, HOME), 4, WEEK, id="intensive-home-3to4"),
        pytest.param(Regimen(INTENSIVE, HOME, 4, 4), 5, TWO_WEEKS, id="intensive-4-4-W-to-W+1"),
        pytest.param(Regimen(INTENSIVE, HOME, 4, 4), 9, MONTH, id="intensive-4-4-W+B-to-W+B+1"),
    ],
)
def test_interval_before(regimen, number, interval):
    assert regimen.interval_before(number) == interval


def test_session_one_has_no_interval_before():
    with pytest.raises(ValueError):
        Regimen(STANDARD, CLINIC).interval_before(1)


@pytest.mark.parametrize(
    ("regimen", "planned"),
    [
        pytest.param(Regimen(STANDARD, HOME), 10, id="standard"),
        pytest.param(Regimen(INTENSIVE, HOME), 10, id="intensive-default"),
        pytest.param(Regimen(INTENSIVE, HOME, 4, 4), 8, id="intensive-4-4"),
        pytest.param(Regimen(INTENSIVE, HOME, 4, 5), 9, id="intensive-4-5"),
    ],
)
def test_sessions_planned(regimen, planned):
    assert regimen.sessions_planned == planned


@pytest.mark.parametrize(
    ("regimen", "sessions_done", "complete"),
    [
        pytest.param(Regimen(STANDARD, CLINIC), 9, False, id="standard-9"),
        pytest.param(Regimen(STANDARD, CLINIC), 10, True, id="standard-10"),
        pytest.param(Regimen(STANDARD, CLINIC), 11, True, id="standard-11"),
        pytest.param(Regimen(INTENSIVE, CLINIC), 10, False, id="intensive-10"),
        pytest.param(Regimen(INTENSIVE, CLINIC), 50, False, id="intensive-50"),
    ],
)
def test_completes_after(regimen, sessions_done, complete):
    assert regimen.completes_after(sessions_done) is complete


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        pytest.param(("gentle", CLINIC), "regimen", id="unknown-regimen"),
        pytest.param((STANDARD, "spa"), "setting", id="unknown-setting"),
        pytest.param((INTENSIVE, HOME, 3, 5), "weekly_sessions", id="weekly-3"),
        pytest.param((INTENSIVE, HOME, 6, 5), "weekly_sessions", id="weekly-6"),
        pytest.param((INTENSIVE, HOME, 5, 3), "biweekly_sessions", id="biweekly-3"),
        pytest.param((INTENSIVE, HOME, 5, 6), "biweekly_sessions", id="biweekly-6"),
    ],
)
def test_invalid_regimen_names_the_field(arguments, field):
    with pytest.raises(RuleViolation) as raised:
        Regimen(*arguments)
    assert raised.value.field == field
