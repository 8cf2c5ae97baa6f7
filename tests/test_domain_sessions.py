"""DOMAIN.md sections 3 and 4: each session warning on both sides of its boundary."""

from dataclasses import replace

import pytest

from domain.devices import WearStatus
from domain.sessions import SIDE_EFFECTS, SessionFacts, needs_doctor, session_warnings

CLEAN = SessionFacts(
    setting="clinic",
    needle_length_mm=0.5,
    duration_minutes=15,
    pain_score=3,
    device_disinfected=True,
    new_cartridge=None,
    device=None,
    device_kind="roller",
    interval_warning=None,
    device_sterilized=True,
)
OUTSIDE_SCALP = "needle_length_outside_scalp_range"
AT_HOME = "professional_needle_at_home"
NOT_DISINFECTED = "device_not_disinfected"
TOO_LONG_FOR_HOME = "needle_too_long_for_home"


def wear(*warnings, uses=6):
    return WearStatus(uses=uses, max_uses=8, expires_on=None, warnings=warnings)


@pytest.mark.parametrize(
    ("changes", "warnings"),
    [
        pytest.param({}, [], id="clean"),
        pytest.param(
            {"interval_warning": "interval_too_short"}, ["interval_too_short"], id="interval"
        ),
        pytest.param({"needle_length_mm": 0.49}, [OUTSIDE_SCALP], id="0.49mm"),
        pytest.param({"needle_length_mm": 0.5}, [], id="0.5mm"),
        pytest.param({"needle_length_mm": 1.5}, [], id="1.5mm-clinic"),
        pytest.param({"needle_length_mm": 1.51}, [OUTSIDE_SCALP], id="1.51mm"),
        pytest.param({"setting": "home", "needle_length_mm": 0.5}, [], id="0.5mm-home"),
        # v2: home rollers are 0.15-0.5 mm [000, 002]
        pytest.param({"setting": "home", "needle_length_mm": 0.51}, [TOO_LONG_FOR_HOME],
                     id="0.51mm-home"),
        pytest.param({"setting": "home", "needle_length_mm": 0.99}, [TOO_LONG_FOR_HOME],
                     id="0.99mm-home"),
        pytest.param({"needle_length_mm": 0.75}, [], id="0.75mm-clinic"),
        pytest.param({"setting": "home", "needle_length_mm": 1.0}, [AT_HOME], id="1.0mm-home"),
        pytest.param({"needle_length_mm": 0.99}, [], id="0.99mm-clinic"),
        pytest.param({"needle_length_mm": 1.0}, [], id="1.0mm-clinic"),
        pytest.param(
            {"setting": "home", "needle_length_mm": 2.0}, [OUTSIDE_SCALP, AT_HOME], id="2.0mm-home"
        ),
        pytest.param({"device": wear()}, [], id="device-without-wear"),
        pytest.param(
            {"device": wear("device_nearing_end")}, ["device_nearing_end"], id="nearing-end"
        ),
        pytest.param({"device": wear("device_worn_out")}, ["device_worn_out"], id="worn-out"),
        pytest.param({"device": wear("device_expired")}, ["device_expired"], id="expired"),
        pytest.param({"device_disinfected": True}, [], id="disinfected-true"),
        pytest.param({"device_disinfected": False}, [NOT_DISINFECTED], id="disinfected-false"),
        pytest.param({"device_disinfected": None}, [NOT_DISINFECTED], id="disinfected-none"),
        pytest.param({"device_kind": "pen", "new_cartridge": True}, [], id="pen-new-cartridge"),
        pytest.param(
            {"device_kind": "pen", "new_cartridge": False}, ["cartridge_reused"], id="pen-reused"
        ),
        pytest.param({"device_kind": "pen", "new_cartridge": None}, [], id="pen-unknown"),
        # v2 [002] "disposable sterile nozzles - disinfection is not required"
        pytest.param({"device_kind": "pen", "new_cartridge": True, "device_disinfected": None},
                     [], id="pen-new-cartridge-not-disinfected"),
        pytest.param({"device_kind": "pen", "new_cartridge": False, "device_disinfected": False},
                     [NOT_DISINFECTED, "cartridge_reused"], id="pen-reused-not-disinfected"),
        pytest.param({"device_kind": "pen", "new_cartridge": None, "device_disinfected": None},
                     [NOT_DISINFECTED], id="pen-unknown-not-disinfected"),
        pytest.param({"device_kind": "stamp", "new_cartridge": True, "device_disinfected": None},
                     [NOT_DISINFECTED], id="stamp-not-disinfected"),
        # v2 [000] stamps are for clinics
        pytest.param({"setting": "home", "device_kind": "stamp"}, ["stamp_at_home"],
                     id="stamp-at-home"),
        pytest.param({"device_kind": "stamp"}, [], id="stamp-at-clinic"),
        # v2 a device the patient retired before the session
        pytest.param({"device_retired": True}, ["device_retired"], id="retired"),
        # v2 [001, 003] a clinic's roller: sterilized, or a new one every time
        pytest.param({"device": wear(uses=1), "device_sterilized": None}, [],
                     id="clinic-roller-first-use"),
        pytest.param({"device": wear(uses=2), "device_sterilized": None},
                     ["clinic_roller_reused"], id="clinic-roller-reused"),
        pytest.param({"device": wear(uses=2), "device_sterilized": True}, [],
                     id="clinic-roller-sterilized"),
        pytest.param({"device": wear(uses=2), "device_sterilized": False},
                     ["clinic_roller_reused"], id="clinic-roller-not-sterilized"),
        pytest.param({"setting": "home", "device": wear(uses=2), "device_sterilized": None}, [],
                     id="home-roller-reused"),
        pytest.param({"device_kind": "pen", "device": wear(uses=2), "device_sterilized": None},
                     [], id="clinic-pen-reused"),
        # v2 [003] "You must know the composition of the cocktail"
        pytest.param({"cocktail": {"name": "Peptides", "ingredients": []}},
                     ["cocktail_composition_unknown"], id="cocktail-without-ingredients"),
        pytest.param({"cocktail": {"name": "Peptides", "ingredients": ["biotin"]}}, [],
                     id="cocktail-with-ingredients"),
        pytest.param({"cocktail": None}, [], id="no-cocktail"),
        pytest.param({"new_cartridge": False}, [], id="roller-cartridge-false"),
        pytest.param({"device_kind": "stamp", "new_cartridge": False}, [], id="stamp-cartridge"),
        pytest.param({"duration_minutes": 20}, [], id="20-minutes"),
        pytest.param({"duration_minutes": 21}, ["long_duration"], id="21-minutes"),
        pytest.param({"duration_minutes": None}, [], id="duration-unknown"),
        pytest.param({"pain_score": 6}, [], id="pain-6"),
        pytest.param({"pain_score": 7}, ["high_pain"], id="pain-7"),
        pytest.param({"pain_score": 10}, ["high_pain"], id="pain-10"),
        pytest.param({"pain_score": None}, [], id="pain-unknown"),
    ],
)
def test_session_warnings(changes, warnings):
    assert session_warnings(replace(CLEAN, **changes)) == warnings


def test_warnings_in_fixed_order():
    facts = SessionFacts(
        setting="home",
        needle_length_mm=2.0,
        duration_minutes=45,
        pain_score=8,
        device_disinfected=None,
        new_cartridge=False,
        device=wear("device_worn_out", "device_expired"),
        device_kind="pen",
        interval_warning="interval_too_short",
    )
    assert session_warnings(facts) == [
        "interval_too_short",
        "needle_length_outside_scalp_range",
        "professional_needle_at_home",
        "device_worn_out",
        "device_expired",
        "device_not_disinfected",
        "cartridge_reused",
        "long_duration",
        "high_pain",
    ]


def test_no_duplicate_warnings():
    facts = replace(CLEAN, device=wear("device_expired", "device_expired"))
    assert session_warnings(facts) == ["device_expired"]


def test_side_effect_codes():
    assert SIDE_EFFECTS == (
        "redness", "swelling", "pinpoint_bleeding", "bruising", "burning", "dryness",
        "infection_signs", "other",
        # v2 [000, 002, 003]
        "scarring", "hyperpigmentation", "peeling", "rash", "contact_dermatitis",
    )


@pytest.mark.parametrize(
    ("redness", "swelling", "infection", "doctor"),
    [
        pytest.param(r, s, i, r or s or i, id=f"redness={r}-swelling={s}-infection={i}")
        for r in (False, True)
        for s in (False, True)
        for i in (False, True)
    ],
)
def test_needs_doctor(redness, swelling, infection, doctor):
    assert needs_doctor(redness, swelling, infection) is doctor


def test_all_clear_check_in_needs_no_doctor():
    assert needs_doctor(False, False, False) is False
