"""Screening for contraindications (DOMAIN.md section 2): what holds a course, who clears it.

Which condition is absolute and which relative is a [product decision]; the
articles list them without grading.
"""

from collections.abc import Mapping, Sequence

from domain.errors import Conflict, NotAllowed, RuleViolation

# Only a clinician linked to the patient clears these.
ABSOLUTE_CONDITIONS = (
    "pregnancy",  # [000,001,003]
    "malignancy",  # [001,003]
    "bleeding_disorder_or_anticoagulants",  # [001,002,003]
    "acute_infection",  # [003]
    "scalp_damage",  # [001,003]
    "scalp_inflammation",  # [000,001,002,004]
    "moles_in_area",  # [001,003]
    "keloid_tendency",  # [001,002]
    "severe_heart_disease",  # [001,003]
)
# A linked clinician clears these, or the patient attesting that a doctor cleared them.
RELATIVE_CONDITIONS = (
    "diabetes",  # [001,004]
    "autoimmune_disease",  # [003,004]
    "eczema_or_psoriasis",  # [002]
    "rosacea_or_couperosis",  # [001,002,004]
    "warts_in_area",  # [002]
    "chronic_disease_flare",  # [003]
    "epilepsy",  # [001]
    "chronic_infection",  # [001]
    "substance_dependence",  # [003]
    "sensitive_skin",  # [001]
)
CONDITIONS = ABSOLUTE_CONDITIONS + RELATIVE_CONDITIONS
# v2: a linked clinician's hold on the course; only a linked clinician lifts it.
CLINICIAN_HOLD = "clinician_hold"
HOLD_REASONS = CONDITIONS + (CLINICIAN_HOLD,)


def hold_reasons(answers: Mapping[str, bool]) -> list[str]:
    """The conditions answered "yes", in table order; a missing answer means "no"."""
    unknown = [key for key in answers if key not in CONDITIONS]
    if unknown:
        raise RuleViolation(
            f"unknown screening conditions: {', '.join(unknown)}", field="screening"
        )
    return [condition for condition in CONDITIONS if answers.get(condition)]


def absolute_reasons(reasons: Sequence[str]) -> list[str]:
    """The reasons only a linked clinician may clear: absolute conditions, a clinical hold."""
    return [reason for reason in reasons if reason in ABSOLUTE_CONDITIONS + (CLINICIAN_HOLD,)]


def carried_over(earlier: Sequence[tuple[Sequence[str], bool, bool]]) -> list[str]:
    """The absolute reasons a patient declared that no clinician has cleared since.

    v2 [product decision: safety]: absolute reasons belong to the patient, not to
    one course. `earlier` is (hold reasons, cleared, clinical hold cleared) of the
    patient's courses, oldest first: `cleared`, whether the course was ever cleared,
    which clears every reason it started with, those carried into it included (only
    a linked clinician clears absolute ones); `clinical hold cleared`, whether a
    clinician's hold, which comes later, on a running course, was lifted too. A
    reason is carried over while the latest course it held was not cleared of it.
    Cancelling or ending that course, or a "no" on a new screening, never clears it.
    """
    uncleared: dict[str, bool] = {}
    for reasons, cleared, hold_cleared in earlier:
        if cleared:
            uncleared = dict.fromkeys(uncleared, False)
        for reason in absolute_reasons(reasons):
            uncleared[reason] = not (hold_cleared if reason == CLINICIAN_HOLD else cleared)
    return [reason for reason in HOLD_REASONS if uncleared.get(reason)]


def course_hold_reasons(answers: Mapping[str, bool], carried: Sequence[str]) -> list[str]:
    """A new course's hold: its screening's "yes" answers and the reasons carried over."""
    held = set(hold_reasons(answers)) | set(carried)
    return [reason for reason in HOLD_REASONS if reason in held]


def check_clearance(reasons: Sequence[str], by_linked_clinician: bool) -> None:
    """Refuse a clearance the caller may not give, or one with nothing to clear."""
    if not reasons:
        raise Conflict("the course has no hold to clear")
    absolute = absolute_reasons(reasons)
    if absolute and not by_linked_clinician:
        raise NotAllowed(
            f"only a linked clinician can clear absolute contraindications or a clinical hold: "
            f"{', '.join(absolute)}"
        )
