"""A logged session (DOMAIN.md sections 3 and 4): its warnings and the 24 h check-in."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.devices import (
    CLINIC_ROLLER_REUSED,
    DEVICE_RETIRED,
    HOME_NEEDLE_MAX_MM,
    NEEDLE_TOO_LONG_FOR_HOME,
    PEN,
    PROFESSIONAL_NEEDLE_MM,
    ROLLER,
    SCALP_NEEDLE_LENGTH_MM,
    STAMP,
    STAMP_AT_HOME,
    WearStatus,
)
from domain.errors import RuleViolation
from domain.flags import flag_reasons
from domain.readiness import PERFORMED_DESPITE_CONTRAINDICATION
from domain.regimen import CLINIC, HOME

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
    # v2 [000] "complications such as scarring, infection, pigmentation, and bruising";
    # [002] "suppuration, scarring and hyperpigmentation"
    "scarring",
    "hyperpigmentation",
    # v2 [002]
    "peeling",
    "rash",
    # v2 [003] "steel tends to oxidize, which can lead to the development of contact dermatitis"
    "contact_dermatitis",
)
# [003] "in time - no more than 15-20 minutes"
LONG_DURATION_MINUTES = 20
# [003] "Mesotherapy should not be very painful": warn at 7 of 10 and over
HIGH_PAIN = 7
PAIN_RANGE = (0, 10)
# [product decision] a session over 4 h is a typo
DURATION_RANGE = (1, 240)
# [001] "if after 24 hours, redness and swelling have not disappeared, it is best to
# consult a doctor": asked 24 h after the session's end (v2)
CHECK_IN_AFTER = timedelta(hours=24)
# v2 [product decision] accepted from 20 h after the end (a reminder may fire a little early)
# to 7 days after, and corrected within those 7 days
CHECK_IN_OPENS_AFTER = timedelta(hours=20)
CHECK_IN_CLOSES_AFTER = timedelta(days=7)

NEEDLE_LENGTH_OUTSIDE_SCALP_RANGE = "needle_length_outside_scalp_range"
PROFESSIONAL_NEEDLE_AT_HOME = "professional_needle_at_home"
DEVICE_NOT_DISINFECTED = "device_not_disinfected"
CARTRIDGE_REUSED = "cartridge_reused"
LONG_DURATION = "long_duration"
HIGH_PAIN_WARNING = "high_pain"
# v2 [003] "You must know the composition of the cocktail"
COCKTAIL_COMPOSITION_UNKNOWN = "cocktail_composition_unknown"


@dataclass(frozen=True)
class SessionFacts:
    """What a session's warnings depend on; `device` is its wear counting this session."""

    setting: str
    # None: not known yet (a readiness check without a device or a length).
    needle_length_mm: float | None
    duration_minutes: int | None
    pain_score: int | None
    device_disinfected: bool | None
    new_cartridge: bool | None
    device: WearStatus | None
    device_kind: str | None
    interval_warning: str | None
    device_retired: bool = False
    cocktail: Mapping | None = None
    device_sterilized: bool | None = None
    # The pre-session check's conditions answered "yes" (DOMAIN.md section 2, v2).
    contraindications: tuple[str, ...] = ()


def session_warnings(facts: SessionFacts) -> list[str]:
    """The warning codes of a logged session, in a fixed order, each at most once."""
    warnings = []
    if facts.interval_warning:
        warnings.append(facts.interval_warning)
    if facts.contraindications:
        warnings.append(PERFORMED_DESPITE_CONTRAINDICATION)
    needle = facts.needle_length_mm
    shortest, longest = SCALP_NEEDLE_LENGTH_MM
    if needle is not None and not shortest <= needle <= longest:
        warnings.append(NEEDLE_LENGTH_OUTSIDE_SCALP_RANGE)
    if needle is not None and facts.setting == HOME and needle >= PROFESSIONAL_NEEDLE_MM:
        warnings.append(PROFESSIONAL_NEEDLE_AT_HOME)
    elif needle is not None and facts.setting == HOME and needle > HOME_NEEDLE_MAX_MM:
        warnings.append(NEEDLE_TOO_LONG_FOR_HOME)
    if facts.setting == HOME and facts.device_kind == STAMP:
        warnings.append(STAMP_AT_HOME)
    if facts.device is not None:
        warnings.extend(facts.device.warnings)
    if facts.device_retired:
        warnings.append(DEVICE_RETIRED)
    if (facts.setting == CLINIC and facts.device_kind == ROLLER and facts.device is not None
            and facts.device.uses >= 2 and facts.device_sterilized is not True):
        warnings.append(CLINIC_ROLLER_REUSED)
    # [000,002] "disinfect before and after every use": an unanswered question warns too;
    # [003] a pen's new sterile cartridge needs none ("disinfection is not required").
    sterile_cartridge = facts.device_kind == PEN and facts.new_cartridge is True
    if facts.device_disinfected is not True and not sterile_cartridge:
        warnings.append(DEVICE_NOT_DISINFECTED)
    # [003] "1 attachment for 1 procedure"
    if facts.device_kind == PEN and facts.new_cartridge is False:
        warnings.append(CARTRIDGE_REUSED)
    if facts.duration_minutes is not None and facts.duration_minutes > LONG_DURATION_MINUTES:
        warnings.append(LONG_DURATION)
    if facts.pain_score is not None and facts.pain_score >= HIGH_PAIN:
        warnings.append(HIGH_PAIN_WARNING)
    if facts.cocktail and facts.cocktail.get("name") and not facts.cocktail.get("ingredients"):
        warnings.append(COCKTAIL_COMPOSITION_UNKNOWN)
    return list(dict.fromkeys(warnings))


def needs_doctor(redness_persists: bool, swelling_persists: bool, infection_signs: bool) -> bool:
    """Whether a 24 h check-in flags the patient for the clinician (`consult_doctor`)."""
    return bool(flag_reasons((), None, {"redness_persists": redness_persists,
                                        "swelling_persists": swelling_persists,
                                        "infection_signs": infection_signs}))


def check_in_window(ended_at: datetime) -> tuple[datetime, datetime]:
    """When a session's check-in opens and closes (it may be corrected until it closes)."""
    return ended_at + CHECK_IN_OPENS_AFTER, ended_at + CHECK_IN_CLOSES_AFTER


def validate_check_in_time(ended_at: datetime, now: datetime) -> None:
    """Refuse a check-in before its window opens (saying when it does) or after it closed."""
    opens_at, closes_at = check_in_window(ended_at)
    if now < opens_at:
        raise RuleViolation(f"The check-in of this session opens at {opens_at.isoformat()}, "
                            "about a day after the session.", "_schema")
    if now > closes_at:
        raise RuleViolation(f"The check-in of this session closed at {closes_at.isoformat()}; "
                            "write a note or a side effect instead.", "_schema")
