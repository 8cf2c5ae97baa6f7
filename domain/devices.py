"""Devices (DOMAIN.md section 3): needle lengths and how long a roller may be used."""

import calendar
from dataclasses import dataclass
from datetime import date

from domain.errors import RuleViolation

# [002,003,004] dermaroller, dermapen with disposable cartridges, dermastamp
ROLLER = "roller"
PEN = "pen"
STAMP = "stamp"
KINDS = (ROLLER, PEN, STAMP)

# [001] lists needles up to 3 mm
NEEDLE_LENGTH_MM = (0.1, 3.0)
# [001] "average needles of 0.5-1.5 mm are used to massage the scalp"
SCALP_NEEDLE_LENGTH_MM = (0.5, 1.5)
# [000] professional 1-2.5 mm: "categorically not recommended to use them at home"
PROFESSIONAL_NEEDLE_MM = 1.0
# v2 [000] "home mesoscooters have a needle length of 0.2-0.5 mm"; [002] "0,15-0,5 mm"
HOME_NEEDLE_MAX_MM = 0.5
# [002] "Homemade dermarollers ... are designed for 6-8 treatments"
ROLLER_NEARING_END_USES = 6
ROLLER_MAX_USES = 8
# [000] "do not exceed the service life of the tool, which is no more than 6 months"
ROLLER_LIFETIME_MONTHS = 6

DEVICE_NEARING_END = "device_nearing_end"
DEVICE_WORN_OUT = "device_worn_out"
DEVICE_EXPIRED = "device_expired"
# v2 [000] dermastamps are "used only in the conditions of cosmetology clinics"
STAMP_AT_HOME = "stamp_at_home"
# v2 [product decision] a device the patient retired
DEVICE_RETIRED = "device_retired"
NEEDLE_TOO_LONG_FOR_HOME = "needle_too_long_for_home"
# v2 [001] "sterilized rollers or a new one every time"; [003] abroad "for each new procedure
# only a new" roller
CLINIC_ROLLER_REUSED = "clinic_roller_reused"


@dataclass(frozen=True)
class WearStatus:
    """How used a device is and what that warrants."""

    uses: int
    max_uses: int | None
    expires_on: date | None
    warnings: tuple[str, ...]


def validate_needle_length(mm: float, field: str = "needle_length_mm") -> None:
    """Refuse a needle length no device has."""
    shortest, longest = NEEDLE_LENGTH_MM
    if not shortest <= mm <= longest:
        raise RuleViolation(
            f"needle length must be between {shortest} and {longest} mm", field=field
        )


def _months_after(day: date, months: int) -> date:
    # Clamped, so Aug 31 + 6 months is the last day of February, not an error.
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expires_on(kind: str, first_used_on: date | None) -> date | None:
    """The last day a roller may be used; None for pens, stamps or a roller never used."""
    if kind != ROLLER or first_used_on is None:
        return None
    return _months_after(first_used_on, ROLLER_LIFETIME_MONTHS)


def wear_status(kind: str, uses: int, first_used_on: date | None, on: date,
                home: bool = True) -> WearStatus:
    """A device's wear on day `on`; only rollers wear out or expire.

    v2: the 6-8 treatments are a home roller's life [002 "Homemade dermarollers"]; a
    clinic's roller is sterilized or new each time (`clinic_roller_reused` covers it),
    so at a clinic (`home=False`) only its age counts.
    """
    if kind != ROLLER:
        return WearStatus(uses=uses, max_uses=None, expires_on=None, warnings=())
    expiry = expires_on(kind, first_used_on)
    warnings = []
    if home and uses >= ROLLER_MAX_USES:
        warnings.append(DEVICE_WORN_OUT)
    elif home and uses >= ROLLER_NEARING_END_USES:
        warnings.append(DEVICE_NEARING_END)
    if expiry is not None and on > expiry:
        warnings.append(DEVICE_EXPIRED)
    return WearStatus(uses=uses, max_uses=ROLLER_MAX_USES if home else None, expires_on=expiry,
                      warnings=tuple(warnings))


# [product decision] a device first used more than 5 years ago is a typo (rollers last 6 months).
FIRST_USE_MAX_YEARS_BACK = 5


def validate_first_use(first_used_on: date | None, today: date) -> None:
    """A device's first use is a day that has come, within the last five years."""
    if first_used_on is None:
        return
    if first_used_on > today:
        raise RuleViolation("A device cannot have been first used in the future.", "first_used_on")
    if first_used_on < today.replace(year=today.year - FIRST_USE_MAX_YEARS_BACK, day=1):
        raise RuleViolation("That first use is more than five years ago.", "first_used_on")
