"""Flags session by session (DOMAIN.md section 4, v2), row by row: what raises a session's
flag, what lowers it, and what a clinician's resolution does to later facts."""

from __future__ import annotations

import pytest

from domain.flags import (
    LOWER,
    LOWERED_BY_CHECK_IN,
    LOWERED_BY_CORRECTION,
    RAISE,
    UPDATE,
    Reason,
    flag_change,
    flag_reasons,
    lowered_by,
)

ALL_CLEAR = {"redness_persists": False, "swelling_persists": False, "infection_signs": False}


def answers(**yes):
    return {**ALL_CLEAR, **yes}


@pytest.mark.parametrize(
    ("side_effects", "pre_check", "check_in", "reasons"),
    [
        pytest.param([], None, None, [], id="nothing"),
        pytest.param(["redness", "swelling"], None, None, [], id="redness-swelling-until-asked"),
        pytest.param(["infection_signs"], None, None, [("side_effect", "infection_signs")],
                     id="infection-signs-at-once"),
        pytest.param(["scarring"], None, None, [("side_effect", "scarring")],
                     id="scarring-at-once"),
        pytest.param(["hyperpigmentation", "other", "peeling", "rash"], None, None, [],
                     id="other-effects-wait-for-the-check-in"),
        pytest.param([], {"acute_infection": True}, None, [("pre_check", "acute_infection")],
                     id="pre-check-yes"),
        pytest.param([], {"scalp_damage": True, "chronic_disease_flare": True}, None,
                     [("pre_check", "scalp_damage"), ("pre_check", "chronic_disease_flare")],
                     id="two-pre-check-yes-in-table-order"),
        pytest.param([], {"acute_infection": False}, None, [], id="pre-check-no"),
        pytest.param(["scarring"], {"scalp_inflammation": True}, None,
                     [("pre_check", "scalp_inflammation"), ("side_effect", "scarring")],
                     id="pre-check-and-side-effect"),
        pytest.param([], None, answers(redness_persists=True),
                     [("check_in", "redness_persists")], id="check-in-redness"),
        pytest.param([], None, answers(swelling_persists=True),
                     [("check_in", "swelling_persists")], id="check-in-swelling"),
        pytest.param([], None, answers(infection_signs=True),
                     [("check_in", "infection_signs")], id="check-in-infection"),
        pytest.param([], None, ALL_CLEAR, [], id="check-in-all-clear"),
        pytest.param(["infection_signs"], {"acute_infection": True}, ALL_CLEAR, [],
                     id="all-clear-decides-over-the-sessions-own-reasons"),
        pytest.param(["infection_signs"], None, answers(redness_persists=True),
                     [("check_in", "redness_persists")],
                     id="persisting-answers-replace-the-side-effect"),
    ],
)
def test_a_sessions_reasons_to_see_a_doctor(side_effects, pre_check, check_in, reasons):
    assert flag_reasons(side_effects, pre_check, check_in) == tuple(
        Reason(source, code) for source, code in reasons)


REDNESS = (Reason("check_in", "redness_persists"),)
SWELLING = (Reason("check_in", "swelling_persists"),)
INFECTION = (Reason("side_effect", "infection_signs"),)


@pytest.mark.parametrize(
    ("before", "after", "is_open", "change"),
    [
        pytest.param((), (), False, None, id="no-reason-no-flag"),
        pytest.param((), INFECTION, False, RAISE, id="first-reason-raises"),
        pytest.param(INFECTION, INFECTION, True, None, id="same-reasons-while-open"),
        pytest.param(INFECTION, REDNESS, True, UPDATE,
                     id="check-in-persisting-updates-the-open-flag"),
        pytest.param(INFECTION, (), True, LOWER, id="all-clear-lowers"),
        pytest.param(REDNESS, REDNESS, False, None,
                     id="a-resolution-stands-while-the-facts-stay"),
        pytest.param(REDNESS, SWELLING, False, RAISE,
                     id="new-facts-after-a-resolution-raise-again"),
        pytest.param((), REDNESS, False, RAISE,
                     id="check-in-corrected-back-to-persisting-raises-again"),
        pytest.param(REDNESS, (), False, None, id="all-clear-after-a-resolution"),
    ],
)
def test_what_a_change_of_facts_does_to_the_sessions_flag(before, after, is_open, change):
    assert flag_change(before, after, is_open) == change


def test_who_lowers_a_flag_whose_reasons_are_gone():
    assert lowered_by(has_check_in=True) == LOWERED_BY_CHECK_IN
    assert lowered_by(has_check_in=False) == LOWERED_BY_CORRECTION
