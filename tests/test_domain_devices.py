"""DOMAIN.md section 3: needle lengths, roller wear and roller age."""

from datetime import date, timedelta

import pytest

from domain.devices import (
    KINDS,
    WearStatus,
    expires_on,
    validate_first_use,
    validate_needle_length,
    wear_status,
)
from domain.errors import RuleViolation


def test_kinds():
    assert KINDS == ("roller", "pen", "stamp")


@pytest.mark.parametrize(
    ("mm", "valid"),
    [
        pytest.param(0.09, False, id="0.09"),
        pytest.param(0.1, True, id="0.1"),
        pytest.param(1.5, True, id="1.5"),
        pytest.param(3.0, True, id="3.0"),
        pytest.param(3.01, False, id="3.01"),
        pytest.param(float("nan"), False, id="nan"),
    ],
)
def test_validate_needle_length(mm, valid):
    if valid:
        validate_needle_length(mm)
        return
    with pytest.raises(RuleViolation) as raised:
        validate_needle_length(mm)
    assert raised.value.field == "needle_length_mm"


def test_validate_needle_length_names_the_given_field():
    with pytest.raises(RuleViolation) as raised:
        validate_needle_length(5.0, field="device.needle_length_mm")
    assert raised.value.field == "device.needle_length_mm"


@pytest.mark.parametrize(
    ("kind", "first_used_on", "expiry"),
    [
        pytest.param("roller", date(2024, 1, 15), date(2024, 7, 15), id="mid-month"),
        pytest.param("roller", date(2024, 8, 31), date(2025, 2, 28), id="aug-31-to-feb-28"),
        pytest.param("roller", date(2023, 8, 31), date(2024, 2, 29), id="aug-31-to-leap-feb-29"),
        pytest.param("roller", date(2024, 12, 31), date(2025, 6, 30), id="dec-31-to-jun-30"),
        pytest.param("roller", date(2024, 7, 1), date(2025, 1, 1), id="across-new-year"),
        pytest.param("roller", None, None, id="roller-never-used"),
        pytest.param("pen", date(2024, 1, 15), None, id="pen"),
        pytest.param("stamp", date(2024, 1, 15), None, id="stamp"),
    ],
)
def test_expires_on(kind, first_used_on, expiry):
    assert expires_on(kind, first_used_on) == expiry


FIRST_USE = date(2024, 1, 15)
EXPIRY = date(2024, 7, 15)


@pytest.mark.parametrize(
    ("uses", "warnings"),
    [
        pytest.param(0, (), id="0-uses"),
        pytest.param(5, (), id="5-uses"),
        pytest.param(6, ("device_nearing_end",), id="6-uses"),
        pytest.param(7, ("device_nearing_end",), id="7-uses"),
        pytest.param(8, ("device_worn_out",), id="8-uses"),
        pytest.param(9, ("device_worn_out",), id="9-uses"),
    ],
)
def test_roller_wear(uses, warnings):
    assert wear_status("roller", uses, FIRST_USE, FIRST_USE) == WearStatus(
        uses=uses, max_uses=8, expires_on=EXPIRY, warnings=warnings
    )


@pytest.mark.parametrize(
    ("uses", "on", "warnings"),
    [
        pytest.param(3, EXPIRY - timedelta(days=1), (), id="day-before-expiry"),
        pytest.param(3, EXPIRY, (), id="expiry-day"),
        pytest.param(3, EXPIRY + timedelta(days=1), ("device_expired",), id="day-after-expiry"),
        pytest.param(
            7, EXPIRY + timedelta(days=1), ("device_nearing_end", "device_expired"),
            id="nearing-end-and-expired",
        ),
        pytest.param(
            8, EXPIRY + timedelta(days=1), ("device_worn_out", "device_expired"),
            id="worn-out-and-expired",
        ),
    ],
)
def test_roller_age(uses, on, warnings):
    assert wear_status("roller", uses, FIRST_USE, on).warnings == warnings


def test_roller_never_used_does_not_expire():
    assert wear_status("roller", 0, None, date(2030, 1, 1)) == WearStatus(0, 8, None, ())


@pytest.mark.parametrize("kind", ["pen", "stamp"])
def test_pens_and_stamps_do_not_wear(kind):
    assert wear_status(kind, 50, date(2020, 1, 1), date(2025, 1, 1)) == WearStatus(
        uses=50, max_uses=None, expires_on=None, warnings=()
    )


@pytest.mark.parametrize(("first_used_on", "allowed"), [
    pytest.param(date(2026, 11, 22), True, id="today"),
    pytest.param(date(2026, 11, 23), False, id="tomorrow"),
    pytest.param(date(2021, 11, 1), True, id="five-years-back"),
    pytest.param(date(2021, 10, 31), False, id="over-five-years-back"),
    pytest.param(None, True, id="unknown"),
])
def test_first_use_is_a_day_that_has_come(first_used_on, allowed):
    today = date(2026, 11, 22)
    if allowed:
        validate_first_use(first_used_on, today)
    else:
        with pytest.raises(RuleViolation) as error:
            validate_first_use(first_used_on, today)
        assert error.value.field == "first_used_on"
