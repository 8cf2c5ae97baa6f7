"""Before every session (DOMAIN.md section 2, v2): may the patient go ahead today?

One rule, two callers: the readiness check asks it before a session, and a
session logged anyway is warned by the same functions (`session_warnings`,
`interval_warning`, the pre-check below).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.devices import DEVICE_EXPIRED, DEVICE_RETIRED, DEVICE_WORN_OUT

# [004] "To eliminate the risk of skin infection, it is better to wait until the remission
# stage"; [001, 003] list these as contraindications to the procedure itself. They come and go
# between sessions, so the app asks them again before each one.
PRE_CHECK_CONDITIONS = ("acute_infection", "scalp_damage", "scalp_inflammation",
                        "chronic_disease_flare")
# A session logged with a "yes" to one of them is recorded, warned, and flags the patient.
PERFORMED_DESPITE_CONTRAINDICATION = "performed_despite_contraindication"

COURSE_NOT_ACTIVE = "course_not_active"
CONSULT_DOCTOR_OPEN = "consult_doctor"
# Device states that stop a session; other device warnings are cautions.
BLOCKING_DEVICE_WARNINGS = (DEVICE_WORN_OUT, DEVICE_EXPIRED, DEVICE_RETIRED)

PRE_CHECK_DETAILS = {
    "acute_infection": "An acute infection: wait until it has healed.",
    "scalp_damage": "Wounds, scratches or burns on the scalp: wait until they have healed.",
    "scalp_inflammation": "Inflammation, acne or herpes on the scalp: wait for remission.",
    "chronic_disease_flare": "A chronic disease is flaring up: wait for remission.",
}
DEVICE_DETAILS = {
    DEVICE_WORN_OUT: "The roller has had its 8 uses: use a new one.",
    DEVICE_EXPIRED: "The roller is over 6 months past its first use: use a new one.",
    DEVICE_RETIRED: "This device was retired: choose another one.",
}


@dataclass(frozen=True)
class Blocker:
    code: str
    detail: str


@dataclass(frozen=True)
class Readiness:
    """Go or no-go, why not, and what the session would be warned about."""

    go: bool
    blockers: list[Blocker]
    cautions: list[str]


def contraindications_today(pre_check: Mapping[str, bool]) -> list[str]:
    """The pre-check conditions answered "yes", in table order (a missing answer is "no")."""
    return [condition for condition in PRE_CHECK_CONDITIONS if pre_check.get(condition)]


def readiness(course_status: str, active: bool, interval_warning: str | None,
              pre_check: Mapping[str, bool], consult_doctor: bool,
              session_warnings: Sequence[str]) -> Readiness:
    """No-go when the course is not active, the safety interval has not passed, a pre-check
    condition is present, a consult_doctor flag is open, or the device is worn out, expired
    or retired; otherwise go, with the session's other warnings as cautions."""
    blockers = []
    if not active:
        blockers.append(Blocker(COURSE_NOT_ACTIVE,
                                f"The course is {course_status.replace('_', ' ')}, not active."))
    if interval_warning:
        blockers.append(Blocker(interval_warning,
                                "Too soon after the previous session: wait for the safety "
                                "interval."))
    blockers += [Blocker(condition, PRE_CHECK_DETAILS[condition])
                 for condition in contraindications_today(pre_check)]
    if consult_doctor:
        blockers.append(Blocker(CONSULT_DOCTOR_OPEN,
                                "A flag asks you to see a doctor before the next session."))
    blockers += [Blocker(warning, DEVICE_DETAILS[warning]) for warning in session_warnings
                 if warning in BLOCKING_DEVICE_WARNINGS]
    cautions = [warning for warning in session_warnings
                if warning not in BLOCKING_DEVICE_WARNINGS and warning != interval_warning]
    return Readiness(not blockers, blockers, cautions)
