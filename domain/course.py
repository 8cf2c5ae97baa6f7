"""The course lifecycle: statuses, the changes a person may ask for, and completion."""

from datetime import date, timedelta

from domain.errors import Conflict, NotAllowed, RuleViolation
from domain.regimen import Regimen

ON_HOLD = "on_hold"
ACTIVE = "active"
PAUSED = "paused"
COMPLETED = "completed"
ENDED = "ended"
CANCELLED = "cancelled"
STATUSES = (ON_HOLD, ACTIVE, PAUSED, COMPLETED, ENDED, CANCELLED)
# A patient has at most one of these at a time.
OPEN_STATUSES = (ON_HOLD, ACTIVE, PAUSED)

# on_hold -> active happens only through clearance, completed only by the system.
REQUESTABLE_STATUSES = (PAUSED, ACTIVE, ENDED, CANCELLED)
TRANSITIONS = frozenset(
    {
        (ACTIVE, PAUSED),
        (ACTIVE, ENDED),
        (ACTIVE, CANCELLED),
        (PAUSED, ACTIVE),
        (PAUSED, ENDED),
        (PAUSED, CANCELLED),
        (ON_HOLD, CANCELLED),
    }
)

# [product decision] a course already running can be recorded up to a year back
START_DATE_MAX_DAYS_BACK = 365
# [product decision] planning more than 3 months ahead is a typo
START_DATE_MAX_DAYS_AHEAD = 90


def check_transition(current: str, target: str) -> None:
    """Refuse a status change a person may not make; asking for the current status is a no-op."""
    if target not in REQUESTABLE_STATUSES:
        raise RuleViolation(
            f"status must be one of: {', '.join(REQUESTABLE_STATUSES)}", field="status"
        )
    if target != current and (current, target) not in TRANSITIONS:
        raise Conflict(f"a course cannot go from {current} to {target}")


def status_after_sessions(regimen: Regimen, current_status: str, sessions_done: int) -> str:
    """The status once sessions are logged, corrected or undone."""
    complete = regimen.completes_after(sessions_done)
    if current_status == ACTIVE and complete:
        return COMPLETED
    if current_status == COMPLETED and not complete:
        return ACTIVE
    return current_status


def check_clinical_hold(current: str) -> None:
    """v2: a linked clinician holds an active or paused course (not one that is over)."""
    if current not in (ACTIVE, PAUSED):
        raise Conflict(f"A course that is {current.replace('_', ' ')} cannot be put on hold.")


def check_change_under_clinical_hold(current: str, target: str) -> None:
    """v2: under a clinician's hold the patient may cancel, and nothing else."""
    if current == ON_HOLD and target != CANCELLED:
        raise NotAllowed("A clinician put this course on hold: only a linked clinician lifts "
                         "it (you may still cancel the course).")


def validate_performed_on(performed_on: date, start_date: date) -> None:
    """v2 [product decision]: a course's sessions are on or after its start date."""
    if performed_on < start_date:
        raise RuleViolation(
            f"A session of this course cannot be before its start date, "
            f"{start_date.isoformat()}.", field="performed_at")


def validate_start_date(start_date: date, today: date) -> None:
    """Refuse a start date too far back or ahead to be meant."""
    earliest = today - timedelta(days=START_DATE_MAX_DAYS_BACK)
    latest = today + timedelta(days=START_DATE_MAX_DAYS_AHEAD)
    if not earliest <= start_date <= latest:
        raise RuleViolation(
            f"start_date must be between {earliest.isoformat()} and {latest.isoformat()}",
            field="start_date",
        )
