"""A logged session (DOMAIN.md sections 3 and 4): its warnings and the 24 h check-in."""

from dataclasses import dataclass
from datetime import timedelta

from domain.devices import (
    PEN,
    PROFESSIONAL_NEEDLE_MM,
    SCALP_NEEDLE_LENGTH_MM,
    WearStatus,
)
from domain.regimen import HOME

# DOMAIN.md section 4: "redness, swelling, pinpoint bleeding, bruising, burning,
# dryness, signs of infection, other"
SIDE_EFFECTS = (
    "redness",
    "swelling",
    "pinpoint_bleeding",
    "bruising",
    "burning",
    "dryness",
    "infection_signs",
    "other",
)
# [003] "in time - no more than 15-20 minutes"
LONG_DURATION_MINUTES = 20
# [003] "Mesotherapy should not be very painful": warn at 7 of 10 and over
HIGH_PAIN = 7
PAIN_RANGE = (0, 10)
# [product decision] a session over 4 h is a typo
DURATION_RANGE = (1, 240)
# [001] "if after 24 hours, redness and swelling have not disappeared, it is best to
# consult a doctor"
CHECK_IN_AFTER = timedelta(hours=24)

NEEDLE_LENGTH_OUTSIDE_SCALP_RANGE = "needle_length_outside_scalp_range"
PROFESSIONAL_NEEDLE_AT_HOME = "professional_needle_at_home"
DEVICE_NOT_DISINFECTED = "device_not_disinfected"
CARTRIDGE_REUSED = "cartridge_reused"
LONG_DURATION = "long_duration"
HIGH_PAIN_WARNING = "high_pain"
CONSULT_DOCTOR = "consult_doctor"


@dataclass(frozen=True)
class SessionFacts:
    """What a session's warnings depend on; `device` is its wear counting this session."""

    setting: str
    needle_length_mm: float
    duration_minutes: int | None
    pain_score: int | None
    device_disinfected: bool | None
    new_cartridge: bool | None
    device: WearStatus | None
    device_kind: str | None
    interval_warning: str | None


def session_warnings(facts: SessionFacts) -> list[str]:
    """The warning codes of a logged session, in a fixed order, each at most once."""
    warnings = []
    if facts.interval_warning:
        warnings.append(facts.interval_warning)
    shortest, longest = SCALP_NEEDLE_LENGTH_MM
    if not shortest <= facts.needle_length_mm <= longest:
        warnings.append(NEEDLE_LENGTH_OUTSIDE_SCALP_RANGE)
    if facts.setting == HOME and facts.needle_length_mm >= PROFESSIONAL_NEEDLE_MM:
        warnings.append(PROFESSIONAL_NEEDLE_AT_HOME)
    if facts.device is not None:
        warnings.extend(facts.device.warnings)
    # [000,002] "disinfect before and after every use": an unanswered question warns too.
    if facts.device_disinfected is not True:
        warnings.append(DEVICE_NOT_DISINFECTED)
    # [003] "1 attachment for 1 procedure"
    if facts.device_kind == PEN and facts.new_cartridge is False:
        warnings.append(CARTRIDGE_REUSED)
    if facts.duration_minutes is not None and facts.duration_minutes > LONG_DURATION_MINUTES:
        warnings.append(LONG_DURATION)
    if facts.pain_score is not None and facts.pain_score >= HIGH_PAIN:
        warnings.append(HIGH_PAIN_WARNING)
    return list(dict.fromkeys(warnings))


def needs_doctor(redness_persists: bool, swelling_persists: bool, infection_signs: bool) -> bool:
    """Whether a 24 h check-in flags the patient for the clinician (`consult_doctor`)."""
    return redness_persists or swelling_persists or infection_signs
