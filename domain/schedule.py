"""The rolling schedule (DOMAIN.md section 1): windows, the next session, projections, adherence.

All dates are calendar dates in the patient's time zone. Each session is due
`target` days after the actual previous one, so a late session shifts every
later one; future sessions are projected on demand, never stored.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from domain.regimen import Regimen

TOO_EARLY = "too_early"
DUE = "due"
OVERDUE = "overdue"

EARLY = "early"
ON_TIME = "on_time"
LATE = "late"

INTERVAL_TOO_SHORT = "interval_too_short"

# [product decision] "Session 1 has earliest = due = start_date and latest = start_date + 3"
FIRST_SESSION_WINDOW_DAYS = 3


@dataclass(frozen=True)
class SessionWindow:
    """When session `number` may be done: on time between `earliest` and `latest`."""

    number: int
    phase: str
    earliest: date
    due: date
    latest: date


@dataclass(frozen=True)
class NextSession(SessionWindow):
    """The next session's window and where today falls in it."""

    state: str
    days_overdue: int


@dataclass(frozen=True)
class Adherence:
    """How the done sessions fell against their windows."""

    on_time: int
    late: int
    early: int
    percent_on_time: int | None


def window_for(
    regimen: Regimen, number: int, start_date: date, previous_done_on: date | None
) -> SessionWindow:
    """The window of session `number`, counted from the start date or the previous session."""
    phase = regimen.phase_of(number)
    if number == 1:
        latest = start_date + timedelta(days=FIRST_SESSION_WINDOW_DAYS)
        return SessionWindow(number, phase, earliest=start_date, due=start_date, latest=latest)
    interval = regimen.interval_before(number)
    return SessionWindow(
        number,
        phase,
        earliest=previous_done_on + timedelta(days=interval.window_start),
        due=previous_done_on + timedelta(days=interval.target),
        latest=previous_done_on + timedelta(days=interval.window_end),
    )


def projected_sessions(
    regimen: Regimen, start_date: date, done_on: Sequence[date], count: int | None = None
) -> list[SessionWindow]:
    """Future sessions, each `target` days after the previous actual or projected one.

    By default up to the end of the fixed part, and at least one more session
    once an intensive course is in maintenance; a finished course has none.
    """
    if count is None:
        count = max(regimen.sessions_planned - len(done_on), 1)
    windows: list[SessionWindow] = []
    previous = done_on[-1] if done_on else None
    number = len(done_on) + 1
    while len(windows) < count and not regimen.completes_after(number - 1):
        window = window_for(regimen, number, start_date, previous)
        windows.append(window)
        previous = window.due
        number += 1
    return windows


def next_session(
    regimen: Regimen, start_date: date, done_on: Sequence[date], today: date
) -> NextSession | None:
    """The session to do next and its state today; None once the course is complete."""
    upcoming = projected_sessions(regimen, start_date, done_on, count=1)
    if not upcoming:
        return None
    return window_state(upcoming[0], today)


def window_state(window: SessionWindow, today: date) -> NextSession:
    """A session window with its state on `today`: too early, due, or overdue by how many days."""
    state, days_overdue = state_on(window.earliest, window.latest, today)
    return NextSession(
        window.number,
        window.phase,
        window.earliest,
        window.due,
        window.latest,
        state=state,
        days_overdue=days_overdue,
    )


def state_on(earliest: date, latest: date, today: date) -> tuple[str, int]:
    """Where `today` falls in a window from `earliest` to `latest`: the state, and the days
    past `latest` (0 until then). The triage list asks this of fifty windows per page."""
    if today < earliest:
        state = TOO_EARLY
    elif today <= latest:
        state = DUE
    else:
        state = OVERDUE
    return state, max((today - latest).days, 0)


def session_timing(window: SessionWindow, done_on: date) -> str:
    """Whether a session done on `done_on` was early, on time or late for its window."""
    if done_on < window.earliest:
        return EARLY
    if done_on > window.latest:
        return LATE
    return ON_TIME


def adherence(regimen: Regimen, start_date: date, done_on: Sequence[date]) -> Adherence:
    """Each done session judged against the window its actual predecessor set."""
    timings = [
        session_timing(window_for(regimen, number, start_date, previous), done)
        for number, (previous, done) in enumerate(zip([None, *done_on], done_on), start=1)
    ]
    on_time = timings.count(ON_TIME)
    return Adherence(
        on_time=on_time,
        late=timings.count(LATE),
        early=timings.count(EARLY),
        percent_on_time=round(100 * on_time / len(timings)) if timings else None,
    )


def interval_warning(
    regimen: Regimen, number: int, previous_done_on: date, done_on: date
) -> str | None:
    """`interval_too_short` when session `number` came sooner than the safety minimum allows."""
    if (done_on - previous_done_on).days < regimen.interval_before(number).minimum:
        return INTERVAL_TOO_SHORT
    return None
