"""DOMAIN.md section 2: screening answers, hold reasons and who may clear them."""

import pytest

from domain.errors import Conflict, NotAllowed, RuleViolation
from domain.screening import (
    ABSOLUTE_CONDITIONS,
    CONDITIONS,
    RELATIVE_CONDITIONS,
    absolute_reasons,
    carried_over,
    check_clearance,
    course_hold_reasons,
    hold_reasons,
)

TABLE = [
    ("pregnancy", "absolute"),
    ("malignancy", "absolute"),
    ("bleeding_disorder_or_anticoagulants", "absolute"),
    ("acute_infection", "absolute"),
    ("scalp_damage", "absolute"),
    ("scalp_inflammation", "absolute"),
    ("moles_in_area", "absolute"),
    ("keloid_tendency", "absolute"),
    ("severe_heart_disease", "absolute"),
    ("diabetes", "relative"),
    ("autoimmune_disease", "relative"),
    ("eczema_or_psoriasis", "relative"),
    ("rosacea_or_couperosis", "relative"),
    ("warts_in_area", "relative"),
    ("chronic_disease_flare", "relative"),
    ("epilepsy", "relative"),
    ("chronic_infection", "relative"),
    ("substance_dependence", "relative"),
    ("sensitive_skin", "relative"),
]


def test_conditions_in_table_order():
    assert CONDITIONS == tuple(key for key, _ in TABLE)
    assert ABSOLUTE_CONDITIONS + RELATIVE_CONDITIONS == CONDITIONS


@pytest.mark.parametrize(("key", "level"), [pytest.param(k, v, id=k) for k, v in TABLE])
def test_each_condition_holds_the_course_at_its_level(key, level):
    reasons = hold_reasons({key: True})
    assert reasons == [key]
    assert absolute_reasons(reasons) == ([key] if level == "absolute" else [])
    if level == "absolute":
        with pytest.raises(NotAllowed) as raised:
            check_clearance(reasons, by_linked_clinician=False)
        assert key in raised.value.detail
        assert "clinician" in raised.value.detail
    else:
        check_clearance(reasons, by_linked_clinician=False)
    check_clearance(reasons, by_linked_clinician=True)


@pytest.mark.parametrize(("key", "level"), [pytest.param(k, v, id=k) for k, v in TABLE])
def test_a_no_is_not_a_reason(key, level):
    assert hold_reasons({key: False}) == []


def test_hold_reasons_follow_table_order_and_missing_means_no():
    answers = {"sensitive_skin": True, "pregnancy": True, "diabetes": False, "epilepsy": True}
    assert hold_reasons(answers) == ["pregnancy", "epilepsy", "sensitive_skin"]
    assert hold_reasons({}) == []


def test_unknown_keys_are_named():
    with pytest.raises(RuleViolation) as raised:
        hold_reasons({"pregnancy": True, "baldness": True, "flu": False})
    assert raised.value.field == "screening"
    assert "baldness" in raised.value.detail
    assert "flu" in raised.value.detail


def test_absolute_reasons_named_in_the_refusal():
    with pytest.raises(NotAllowed) as raised:
        check_clearance(["pregnancy", "diabetes", "moles_in_area"], by_linked_clinician=False)
    assert "pregnancy" in raised.value.detail
    assert "moles_in_area" in raised.value.detail
    assert "diabetes" not in raised.value.detail


@pytest.mark.parametrize("by_linked_clinician", [True, False], ids=["clinician", "patient"])
def test_nothing_to_clear(by_linked_clinician):
    with pytest.raises(Conflict):
        check_clearance([], by_linked_clinician=by_linked_clinician)


# v2: absolute reasons belong to the patient, not to one course.
@pytest.mark.parametrize(
    ("earlier", "carried"),
    [
        pytest.param([], [], id="first-course"),
        pytest.param([(["pregnancy"], False, False)], ["pregnancy"], id="held-then-cancelled"),
        pytest.param([(["pregnancy"], True, True)], [], id="cleared-by-a-clinician"),
        pytest.param([(["diabetes"], False, False)], [],
                     id="relative-reasons-stay-with-their-course"),
        pytest.param([(["pregnancy"], False, False), ([], False, False)], ["pregnancy"],
                     id="a-later-course-without-it-does-not-clear-it"),
        pytest.param([(["pregnancy"], False, False), (["pregnancy"], True, True)], [],
                     id="carried-then-cleared"),
        pytest.param([(["pregnancy"], True, True), (["pregnancy"], False, False)], ["pregnancy"],
                     id="declared-again-after-a-clearance"),
        pytest.param([(["malignancy", "diabetes"], False, False), (["pregnancy"], False, False)],
                     ["pregnancy", "malignancy"], id="in-table-order"),
        # A clinician's hold comes later, on a running course: it holds only itself.
        pytest.param([(["scalp_damage"], True, False)], [],
                     id="a-clinical-hold-after-a-clearance-keeps-it-cleared"),
        pytest.param([(["scalp_damage", "clinician_hold"], True, False)], ["clinician_hold"],
                     id="rows-that-list-the-cleared-reason-beside-the-hold"),
        pytest.param([(["pregnancy"], False, False), (["clinician_hold"], True, False)],
                     ["clinician_hold"], id="carried-cleared-then-held-by-the-clinician"),
        pytest.param([(["pregnancy"], False, False), (["clinician_hold"], True, True)], [],
                     id="carried-cleared-held-and-lifted"),
    ],
)
def test_absolute_reasons_carry_over_until_a_clinician_clears_them(earlier, carried):
    assert carried_over(earlier) == carried


@pytest.mark.parametrize(
    ("answers", "carried", "reasons"),
    [
        pytest.param({}, ["pregnancy"], ["pregnancy"], id="a-no-never-clears"),
        pytest.param({"diabetes": True}, ["pregnancy"], ["pregnancy", "diabetes"], id="both"),
        pytest.param({"pregnancy": True}, ["pregnancy"], ["pregnancy"], id="once"),
        pytest.param({"diabetes": True}, [], ["diabetes"], id="screening-only"),
    ],
)
def test_a_new_course_is_held_by_its_screening_and_what_is_carried_over(answers, carried,
                                                                       reasons):
    assert course_hold_reasons(answers, carried) == reasons
