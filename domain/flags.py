"""Flags, session by session (DOMAIN.md section 4, v2): what raises one, what lowers it.

A flag belongs to the session that raised it. Its reasons are the session's
facts that call for a doctor: the side effects logged with it (`infection_signs`,
`scarring`) and a "yes" in its pre-session check, until the session has its
check-in; from then on the check-in decides (persisting redness or swelling, or
signs of infection). An all-clear check-in of that same session lowers the flag,
and so does a linked clinician resolving it with a note. Nothing of another
session touches it.

Flags are rows with a lifecycle, so each change of the facts is an event:
`flag_change` says what the event does to the session's open flag, if any.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.readiness import contraindications_today

CONSULT_DOCTOR = "consult_doctor"
# v2 [001] "any sign of infection": logged as a side effect, these flag the patient at once.
FLAGGING_SIDE_EFFECTS = ("infection_signs", "scarring")
# [001] "if after 24 hours, redness and swelling have not disappeared, it is best to consult a
# doctor": the check-in answers that keep a flag open.
CHECK_IN_ANSWERS = ("redness_persists", "swelling_persists", "infection_signs")

# Where a reason comes from.
SIDE_EFFECT = "side_effect"
PRE_CHECK = "pre_check"
CHECK_IN = "check_in"
SOURCES = (SIDE_EFFECT, PRE_CHECK, CHECK_IN)

# How a flag was lowered.
LOWERED_BY_CHECK_IN = "check_in"
LOWERED_BY_CLINICIAN = "clinician"
# The session was corrected: the side effect or the pre-check "yes" that raised it is gone.
LOWERED_BY_CORRECTION = "session_corrected"
RESOLUTIONS = (LOWERED_BY_CHECK_IN, LOWERED_BY_CLINICIAN, LOWERED_BY_CORRECTION)

# [product decision] a clinician's resolution note is a note: up to 10,000 characters.
RESOLUTION_NOTE_MAX = 10_000


@dataclass(frozen=True)
class Reason:
    """Why a session is flagged: a side effect, a pre-check answer or a check-in answer."""

    source: str
    code: str


# What an event does to the session's flag.
RAISE, UPDATE, LOWER = "raise", "update", "lower"


def flag_reasons(side_effects: Sequence[str], pre_check: Mapping[str, bool] | None,
                 check_in: Mapping[str, bool] | None) -> tuple[Reason, ...]:
    """The session's reasons to see a doctor now; none means all clear.

    `check_in` maps the answers of CHECK_IN_ANSWERS, or is None while the session has
    none: once it has one, the check-in alone decides (an all-clear lowers a flag that
    the session's side effects raised).
    """
    if check_in is not None:
        return tuple(Reason(CHECK_IN, answer) for answer in CHECK_IN_ANSWERS
                     if check_in.get(answer))
    return (*(Reason(PRE_CHECK, condition)
              for condition in contraindications_today(pre_check or {})),
            *(Reason(SIDE_EFFECT, effect) for effect in FLAGGING_SIDE_EFFECTS
              if effect in side_effects))


def flag_change(before: Sequence[Reason], after: Sequence[Reason], is_open: bool) -> str | None:
    """RAISE a new flag, UPDATE the open one's reasons, LOWER it, or nothing (None).

    `before` and `after` are the session's reasons around the event, `is_open` whether
    the session has an open flag. A flag lowered by a clinician stays lowered while the
    facts stay what the clinician saw (the session's notes corrected, say); any change
    of them is a new fact, and new reasons raise a new flag.
    """
    before, after = tuple(before), tuple(after)
    if is_open:
        if not after:
            return LOWER
        return UPDATE if after != before else None
    return RAISE if after and after != before else None


def lowered_by(has_check_in: bool) -> str:
    """Who lowers a flag whose reasons are gone: the all-clear check-in, or a correction."""
    return LOWERED_BY_CHECK_IN if has_check_in else LOWERED_BY_CORRECTION
