"""The course lifecycle: every status pair, completion by the 10th session, start dates."""

from datetime import date, timedelta

import pytest

from domain.course import (
    ACTIVE,
    CANCELLED,
    COMPLETED,
    ENDED,
    ON_HOLD,
    OPEN_STATUSES,
    PAUSED,
    check_transition,
    status_after_sessions,
    validate_performed_on,
    validate_start_date,
)
from domain.errors import Conflict, RuleViolation
from domain.regimen import CLINIC, INTENSIVE, STANDARD, Regimen

STATUSES = [ON_HOLD, ACTIVE, PAUSED, COMPLETED, ENDED, CANCELLED]
ALLOWED = {
    (ACTIVE, PAUSED),
    (ACTIVE, ENDED),
    (ACTIVE, CANCELLED),
    (PAUSED, ACTIVE),
    (PAUSED, ENDED),
    (PAUSED, CANCELLED),
    (ON_HOLD, CANCELLED),
}
REQUESTABLE = {PAUSED, ACTIVE, ENDED, CANCELLED}


def expected_outcome(current, target):
    if target not in REQUESTABLE:
        return RuleViolation
    if current == target or (current, target) in ALLOWED:
        return None
    return Conflict


@pytest.mark.parametrize(
    ("current", "target"),
    [pytest.param(c, t, id=f"{c}->{t}") for c in STATUSES for t in STATUSES],
)
def test_check_transition(current, target):
    outcome = expected_outcome(current, target)
    if outcome is None:
        check_transition(current, target)
        return
    with pytest.raises(outcome) as raised:
        check_transition(current, target)
    if outcome is Conflict:
        assert current in raised.value.detail
        assert target in raised.value.detail
    else:
        assert raised.value.field == "status"


def test_unknown_target_status():
    with pytest.raises(RuleViolation) as raised:
        check_transition(ACTIVE, "finished")
    assert raised.value.field == "status"


def test_open_statuses():
    assert OPEN_STATUSES == ("on_hold", "active", "paused")


@pytest.mark.parametrize(
    ("regimen", "current", "sessions_done", "status"),
    [
        pytest.param(Regimen(STANDARD, CLINIC), ACTIVE, 9, ACTIVE, id="standard-9"),
        pytest.param(Regimen(STANDARD, CLINIC), ACTIVE, 10, COMPLETED, id="standard-10th"),
        pytest.param(Regimen(STANDARD, CLINIC), COMPLETED, 10, COMPLETED, id="completed-stays"),
        pytest.param(Regimen(STANDARD, CLINIC), COMPLETED, 9, ACTIVE, id="undo-reopens"),
        pytest.param(Regimen(STANDARD, CLINIC), ENDED, 10, ENDED, id="ended-stays"),
        pytest.param(Regimen(STANDARD, CLINIC), PAUSED, 10, PAUSED, id="paused-stays"),
        pytest.param(Regimen(INTENSIVE, CLINIC), ACTIVE, 10, ACTIVE, id="intensive-10"),
        pytest.param(Regimen(INTENSIVE, CLINIC), ACTIVE, 30, ACTIVE, id="intensive-30"),
    ],
)
def test_status_after_sessions(regimen, current, sessions_done, status):
    assert status_after_sessions(regimen, current, sessions_done) == status


TODAY = date(2025, 6, 15)


@pytest.mark.parametrize(
    ("offset", "valid"),
    [
        pytest.param(-366, False, id="366-days-back"),
        pytest.param(-365, True, id="365-days-back"),
        pytest.param(0, True, id="today"),
        pytest.param(90, True, id="90-days-ahead"),
        pytest.param(91, False, id="91-days-ahead"),
    ],
)
def test_validate_start_date(offset, valid):
    start_date = TODAY + timedelta(days=offset)
    if valid:
        validate_start_date(start_date, TODAY)
    else:
        with pytest.raises(RuleViolation) as raised:
            validate_start_date(start_date, TODAY)
        assert raised.value.field == "start_date"


# v2: a course's sessions are on or after its start date.
@pytest.mark.parametrize(
    ("performed_on", "valid"),
    [
        pytest.param(date(2026, 10, 31), False, id="a-day-before"),
        pytest.param(date(2026, 10, 1), False, id="a-month-before"),
        pytest.param(date(2026, 11, 1), True, id="the-start-date"),
        pytest.param(date(2026, 11, 20), True, id="later"),
    ],
)
def test_validate_performed_on(performed_on, valid):
    if valid:
        validate_performed_on(performed_on, date(2026, 11, 1))
    else:
        with pytest.raises(RuleViolation):
            validate_performed_on(performed_on, date(2026, 11, 1))
