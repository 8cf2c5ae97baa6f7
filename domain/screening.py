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


def hold_reasons(answers: Mapping[str, bool]) -> list[str]:
    """The conditions answered "yes", in table order; a missing answer means "no"."""
    unknown = [key for key in answers if key not in CONDITIONS]
    if unknown:
        raise RuleViolation(
            f"unknown screening conditions: {', '.join(unknown)}", field="screening"
        )
    return [condition for condition in CONDITIONS if answers.get(condition)]


def absolute_reasons(reasons: Sequence[str]) -> list[str]:
    """The reasons only a linked clinician may clear."""
    return [reason for reason in reasons if reason in ABSOLUTE_CONDITIONS]


def check_clearance(reasons: Sequence[str], by_linked_clinician: bool) -> None:
    """Refuse a clearance the caller may not give, or one with nothing to clear."""
    if not reasons:
        raise Conflict("the course has no hold to clear")
    absolute = absolute_reasons(reasons)
    if absolute and not by_linked_clinician:
        raise NotAllowed(
            f"only a linked clinician can clear absolute contraindications: {', '.join(absolute)}"
        )
