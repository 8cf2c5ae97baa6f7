"""DOMAIN.md section 1, the rolling schedule: windows, states, projections, adherence."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.regimen import CLINIC, HOME, INTENSIVE, STANDARD, Regimen
from domain.schedule import (
    Adherence,
    NextSession,
    SessionWindow,
    adherence,
    interval_warning,
    next_session,
    projected_sessions,
    session_timing,
    window_for,
)

START = date(2024, 3, 4)
STANDARD_CLINIC = Regimen(STANDARD, CLINIC)
STANDARD_HOME = Regimen(STANDARD, HOME)
INTENSIVE_CLINIC = Regimen(INTENSIVE, CLINIC)


def days(n):
    return timedelta(days=n)


@pytest.mark.parametrize(
    ("regimen", "number", "previous", "window"),
    [
        pytest.param(
            STANDARD_CLINIC, 1, None,
            SessionWindow(1, "course", START, START, date(2024, 3, 7)),
            id="session-1",
        ),
        pytest.param(
            INTENSIVE_CLINIC, 1, None,
            SessionWindow(1, "weekly", START, START, date(2024, 3, 7)),
            id="intensive-session-1",
        ),
        pytest.param(
            STANDARD_CLINIC, 2, date(2024, 3, 5),
            SessionWindow(2, "course", date(2024, 3, 12), date(2024, 3, 12), date(2024, 3, 15)),
            id="standard-weekly",
        ),
        pytest.param(
            STANDARD_HOME, 3, date(2024, 3, 5),
            SessionWindow(3, "course", date(2024, 3, 15), date(2024, 3, 15), date(2024, 3, 18)),
            id="home-first-intervals",
        ),
        pytest.param(
            INTENSIVE_CLINIC, 6, date(2024, 2, 28),
            SessionWindow(6, "biweekly", date(2024, 3, 13), date(2024, 3, 13), date(2024, 3, 16)),
            id="biweekly-across-leap-day",
        ),
        pytest.param(
            INTENSIVE_CLINIC, 11, date(2024, 3, 5),
            SessionWindow(11, "maintenance", date(2024, 4, 2), date(2024, 4, 4), date(2024, 4, 9)),
            id="maintenance",
        ),
    ],
)
def test_window_for(regimen, number, previous, window):
    assert window_for(regimen, number, START, previous) == window


@pytest.mark.parametrize(
    ("done_on", "today", "state", "days_overdue"),
    [
        pytest.param([], START - days(1), "too_early", 0, id="first-day-before-start"),
        pytest.param([], START, "due", 0, id="first-on-start"),
        pytest.param([], START + days(3), "due", 0, id="first-last-day"),
        pytest.param([], START + days(4), "overdue", 1, id="first-day-after-window"),
        pytest.param([START], START + days(6), "too_early", 0, id="day-before-earliest"),
        pytest.param([START], START + days(7), "due", 0, id="earliest"),
        pytest.param([START], START + days(10), "due", 0, id="latest"),
        pytest.param([START], START + days(11), "overdue", 1, id="day-after-latest"),
        pytest.param([START], START + days(15), "overdue", 5, id="five-days-late"),
    ],
)
def test_next_session_state(done_on, today, state, days_overdue):
    upcoming = next_session(STANDARD_CLINIC, START, done_on, today)
    assert upcoming.number == len(done_on) + 1
    assert (upcoming.state, upcoming.days_overdue) == (state, days_overdue)


def test_next_session_rolls_from_the_actual_previous_session():
    done_on = [START, date(2024, 3, 20)]
    assert next_session(STANDARD_CLINIC, START, done_on, date(2024, 3, 22)) == NextSession(
        3, "course", date(2024, 3, 27), date(2024, 3, 27), date(2024, 3, 30),
        state="too_early", days_overdue=0,
    )


def test_tenth_standard_session_completes_the_course():
    done_on = [START + days(7 * i) for i in range(10)]
    assert next_session(STANDARD_CLINIC, START, done_on[:9], done_on[9]).number == 10
    assert next_session(STANDARD_CLINIC, START, done_on, done_on[9]) is None
    assert projected_sessions(STANDARD_CLINIC, START, done_on) == []
    assert projected_sessions(STANDARD_CLINIC, START, done_on, count=3) == []


def test_intensive_course_never_completes():
    done_on = [START + days(30 * i) for i in range(25)]
    upcoming = next_session(INTENSIVE_CLINIC, START, done_on, done_on[-1])
    assert (upcoming.number, upcoming.phase) == (26, "maintenance")
    assert upcoming.due == date(2026, 3, 24)


def test_projection_of_a_new_home_course():
    dues = [window.due for window in projected_sessions(STANDARD_HOME, START, [])]
    assert dues == [START + days(n) for n in (0, 10, 20, 27, 34, 41, 48, 55, 62, 69)]


def test_projection_counts():
    regimen = Regimen(INTENSIVE, CLINIC, 4, 4)
    eight_done = [START + days(7 * i) for i in range(8)]
    three_done = eight_done[:3]
    assert [w.number for w in projected_sessions(regimen, START, three_done)] == [4, 5, 6, 7, 8]
    maintenance = projected_sessions(regimen, START, eight_done)
    assert maintenance == [
        SessionWindow(9, "maintenance", date(2024, 5, 20), date(2024, 5, 22), date(2024, 5, 27))
    ]
    assert len(projected_sessions(regimen, START, eight_done, count=3)) == 3
    capped = projected_sessions(STANDARD_CLINIC, START, eight_done, count=5)
    assert [w.number for w in capped] == [9, 10]


@pytest.mark.parametrize(
    ("done_on", "timing"),
    [
        pytest.param(date(2024, 3, 11), "early", id="day-before-earliest"),
        pytest.param(date(2024, 3, 12), "on_time", id="earliest"),
        pytest.param(date(2024, 3, 15), "on_time", id="latest"),
        pytest.param(date(2024, 3, 16), "late", id="day-after-latest"),
    ],
)
def test_session_timing(done_on, timing):
    window = SessionWindow(2, "course", date(2024, 3, 12), date(2024, 3, 12), date(2024, 3, 15))
    assert session_timing(window, done_on) == timing


def test_adherence_judges_each_session_against_its_actual_predecessor():
    done_on = [
        START + days(1),  # on time: session 1 window is start..start+3
        START + days(20),  # late: due start+8, latest start+11
        START + days(27),  # on time, counted from the late one
        START + days(30),  # early
    ]
    assert adherence(STANDARD_CLINIC, START, done_on) == Adherence(
        on_time=2, late=1, early=1, percent_on_time=50
    )


def test_adherence_without_sessions():
    assert adherence(STANDARD_CLINIC, START, []) == Adherence(0, 0, 0, None)


def test_adherence_rounds_the_percentage():
    done_on = [START, START + days(7), START + days(20)]
    assert adherence(STANDARD_CLINIC, START, done_on).percent_on_time == 67


@pytest.mark.parametrize(
    ("regimen", "number", "gap", "warning"),
    [
        pytest.param(STANDARD_CLINIC, 2, 6, "interval_too_short", id="clinic-6-days"),
        pytest.param(STANDARD_CLINIC, 2, 7, None, id="clinic-7-days"),
        pytest.param(STANDARD_HOME, 2, 9, "interval_too_short", id="home-1to2-9-days"),
        pytest.param(STANDARD_HOME, 2, 10, None, id="home-1to2-10-days"),
        pytest.param(STANDARD_HOME, 3, 9, "interval_too_short", id="home-2to3-9-days"),
        pytest.param(STANDARD_HOME, 4, 7, None, id="home-3to4-7-days"),
        pytest.param(STANDARD_HOME, 4, 6, "interval_too_short", id="home-3to4-6-days"),
        pytest.param(INTENSIVE_CLINIC, 6, 7, None, id="biweekly-7-days"),
        pytest.param(INTENSIVE_CLINIC, 11, 6, "interval_too_short", id="maintenance-6-days"),
        pytest.param(INTENSIVE_CLINIC, 11, 0, "interval_too_short", id="same-day"),
    ],
)
def test_interval_warning(regimen, number, gap, warning):
    assert interval_warning(regimen, number, START, START + days(gap)) == warning


regimens = st.builds(
    Regimen,
    kind=st.sampled_from([STANDARD, INTENSIVE]),
    setting=st.sampled_from([HOME, CLINIC]),
    weekly_sessions=st.sampled_from([4, 5]),
    biweekly_sessions=st.sampled_from([4, 5]),
)
start_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


@st.composite
def done_dates(draw, start_date):
    first = start_date + days(draw(st.integers(min_value=-30, max_value=60)))
    gaps = draw(st.lists(st.integers(min_value=0, max_value=70), max_size=14))
    done_on = [first]
    for gap in gaps:
        done_on.append(done_on[-1] + days(gap))
    return done_on[: draw(st.integers(min_value=0, max_value=len(done_on)))]


@st.composite
def courses(draw):
    regimen = draw(regimens)
    start_date = draw(start_dates)
    return regimen, start_date, draw(done_dates(start_date))


def expected_phase(regimen, number):
    if regimen.kind == STANDARD:
        return "course"
    if number <= regimen.weekly_sessions:
        return "weekly"
    if number <= regimen.weekly_sessions + regimen.biweekly_sessions:
        return "biweekly"
    return "maintenance"


@given(courses())
def test_projection_keeps_the_minimum_interval(course):
    regimen, start_date, done_on = course
    previous = done_on[-1] if done_on else None
    for window in projected_sessions(regimen, start_date, done_on):
        if previous is None:
            assert window.earliest == window.due == start_date
        else:
            interval = regimen.interval_before(window.number)
            assert window.earliest == previous + days(interval.window_start)
            assert (window.earliest - previous).days >= interval.minimum
            assert window.earliest <= window.due <= window.latest
        previous = window.due


@given(courses())
def test_projection_numbers_are_gap_free(course):
    regimen, start_date, done_on = course
    numbers = [window.number for window in projected_sessions(regimen, start_date, done_on)]
    assert numbers == list(range(len(done_on) + 1, len(done_on) + 1 + len(numbers)))
    if regimen.kind == STANDARD:
        assert len(numbers) == max(10 - len(done_on), 0)
    else:
        assert len(numbers) == max(regimen.sessions_planned - len(done_on), 1)


@given(courses())
def test_next_session_is_the_first_projected_one(course):
    regimen, start_date, done_on = course
    upcoming = next_session(regimen, start_date, done_on, start_date)
    projected = projected_sessions(regimen, start_date, done_on, count=1)
    if not projected:
        assert upcoming is None
    else:
        window = projected[0]
        assert (upcoming.number, upcoming.earliest, upcoming.due, upcoming.latest) == (
            window.number, window.earliest, window.due, window.latest,
        )


@given(regimens, start_dates)
def test_phase_boundaries_fall_at_w_and_w_plus_b(regimen, start_date):
    windows = projected_sessions(regimen, start_date, [], count=regimen.sessions_planned + 3)
    assert [w.phase for w in windows] == [expected_phase(regimen, w.number) for w in windows]
    gaps = [(later.due - earlier.due).days for earlier, later in zip(windows, windows[1:])]
    first_two = [10, 10] if regimen.setting == HOME else [7, 7]
    if regimen.kind == STANDARD:
        assert gaps == first_two + [7] * 7
    else:
        weekly, biweekly = regimen.weekly_sessions, regimen.biweekly_sessions
        assert gaps == first_two + [7] * (weekly - 3) + [14] * biweekly + [30] * 3


@given(courses())
def test_adherence_counts_every_done_session(course):
    regimen, start_date, done_on = course
    result = adherence(regimen, start_date, done_on)
    assert result.on_time + result.late + result.early == len(done_on)
    assert (result.percent_on_time is None) == (not done_on)
