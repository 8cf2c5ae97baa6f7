"""The course status of the mobile home screen, from facts to one value."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.aftercare import AftercareItem
from domain.devices import WearStatus
from domain.flags import Reason
from domain.photos import STANDARD_AREAS
from domain.regimen import CLINIC, HOME, INTENSIVE, STANDARD, Regimen
from domain.schedule import Adherence, NextSession
from domain.status import (
    CheckInWindow,
    CourseFacts,
    DoneSession,
    HoldClearance,
    OpenFlag,
    course_status,
)

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")
START = date(2024, 3, 4)
WORN = (7, WearStatus(8, max_uses=8, expires_on=date(2024, 9, 4), warnings=("device_worn_out",)))


def facts(regimen, status, performed, **changes):
    values = dict(
        course_id=42,
        regimen=regimen,
        status=status,
        start_date=START,
        hold_reasons=(),
        sessions=tuple(
            DoneSession(number, moment, device_id=7) for number, moment in enumerate(performed, 1)
        ),
        device=None,
        open_flags=(),
        last_session_id=100 + len(performed) if performed else None,
        last_checked_in=False,
        photo_areas=(),
    )
    values.update(changes)
    return CourseFacts(**values)


def weekly(count, first=datetime(2024, 3, 4, 19, 0, tzinfo=BERLIN)):
    return [first + timedelta(days=7 * i) for i in range(count)]


def test_active_home_course_in_the_patients_zone():
    # 23:30 UTC on 14 March is already 15 March in Berlin: the schedule counts from the 15th.
    performed = [
        datetime(2024, 3, 4, 19, 0, tzinfo=BERLIN),
        datetime(2024, 3, 14, 23, 30, tzinfo=UTC),
    ]
    check_in_due = datetime(2024, 3, 15, 23, 30, tzinfo=UTC)
    flag = OpenFlag(9, 101, 1, datetime(2024, 3, 4, 19, 30, tzinfo=BERLIN),
                    (Reason("side_effect", "infection_signs"),))
    now = datetime(2024, 3, 15, 10, 0, tzinfo=BERLIN)
    status = course_status(
        facts(
            Regimen(STANDARD, HOME), "active", performed,
            device=WORN, open_flags=(flag,), photo_areas=("frontal", "vertex"),
        ),
        now,
    )
    assert status.course_id == 42
    assert status.regimen == "standard"
    assert status.status == "active"
    assert status.phase == "course"
    assert (status.sessions_done, status.sessions_planned) == (2, 10)
    assert status.next_session == NextSession(
        3, "course", date(2024, 3, 25), date(2024, 3, 25), date(2024, 3, 28),
        state="too_early", days_overdue=0,
    )
    assert status.aftercare == [
        AftercareItem("apply_products", datetime(2024, 3, 15, 12, 30, tzinfo=BERLIN)),
        AftercareItem("wash_hair", datetime(2024, 3, 17, 0, 30, tzinfo=BERLIN)),
        AftercareItem("gym", datetime(2024, 3, 17, 0, 30, tzinfo=BERLIN)),
        *(AftercareItem(activity, datetime(2024, 3, 22, 0, 30, tzinfo=BERLIN))
          for activity in ("sauna_pool_solarium", "hot_shower_bath", "decorative_cosmetics",
                           "otc_blood_thinners", "scalp_procedures", "uncovered_sun")),
    ]
    assert all(item.allowed_from.tzinfo is BERLIN for item in status.aftercare)
    assert status.results_expected is False
    assert status.photos_due == (
        "baseline", ["mid_scalp", "left_temple", "right_temple", "occipital", "part_line"],
    )
    assert status.device == WORN
    assert status.adherence == Adherence(on_time=2, late=0, early=0, percent_on_time=100)
    assert status.hold_reasons == []
    assert status.flags == ["consult_doctor"]
    assert status.open_flags == [flag]
    assert status.check_in_due == check_in_due
    # The 24 h check-in of session 2 (id 102) opens 20 h after it and closes 7 days after.
    assert status.check_in == CheckInWindow(
        102, datetime(2024, 3, 15, 19, 30, tzinfo=UTC), datetime(2024, 3, 21, 23, 30, tzinfo=UTC),
        done=False)
    assert status.check_in.opens_at.tzinfo is BERLIN
    assert status.hold_clearance == []
    # Sessions 3-10 projected a week apart from the due date of 25 March.
    assert status.projected_end == date(2024, 5, 13)


def test_a_checked_in_last_session_is_due_no_more():
    performed = weekly(2)
    status = course_status(facts(Regimen(STANDARD, CLINIC), "active", performed,
                                 last_checked_in=True),
                           performed[-1] + timedelta(days=2))
    assert status.check_in.done is True
    assert status.check_in_due is None


def test_no_session_no_check_in_window():
    status = course_status(facts(Regimen(STANDARD, CLINIC), "active", []),
                           datetime(2024, 3, 4, 9, 0, tzinfo=BERLIN))
    assert status.check_in is None
    assert status.check_in_due is None
    assert status.projected_end == date(2024, 5, 6)


def test_overdue_next_session():
    now = datetime(2024, 4, 1, 9, 0, tzinfo=BERLIN)
    status = course_status(facts(Regimen(STANDARD, CLINIC), "active", weekly(3)), now)
    assert status.next_session == NextSession(
        4, "course", date(2024, 3, 25), date(2024, 3, 25), date(2024, 3, 28),
        state="overdue", days_overdue=4,
    )
    assert status.aftercare == []
    assert status.flags == []


def test_on_hold_course():
    status = course_status(
        facts(Regimen(INTENSIVE, HOME), "on_hold", [], hold_reasons=("pregnancy", "diabetes")),
        datetime(2024, 3, 1, 8, 0, tzinfo=BERLIN),
    )
    assert status.next_session is None
    assert status.phase == "weekly"
    assert (status.sessions_done, status.sessions_planned) == (0, 10)
    assert status.hold_reasons == ["pregnancy", "diabetes"]
    assert status.aftercare == []
    assert status.adherence == Adherence(0, 0, 0, None)
    assert status.photos_due == ("baseline", list(STANDARD_AREAS))
    assert status.hold_clearance == [HoldClearance("pregnancy", "clinician"),
                                     HoldClearance("diabetes", "patient_or_clinician")]
    # 5 weekly from the start date (at home, the first two gaps are 10 days), then 5 every
    # two weeks.
    assert status.projected_end == date(2024, 3, 4) + timedelta(days=10 + 10 + 7 + 7 + 5 * 14)


def test_a_clinical_hold_is_cleared_by_a_clinician_only():
    status = course_status(
        facts(Regimen(STANDARD, HOME), "on_hold", [], hold_reasons=("clinician_hold",)),
        datetime(2024, 3, 1, 8, 0, tzinfo=BERLIN))
    assert status.hold_clearance == [HoldClearance("clinician_hold", "clinician")]


def test_active_intensive_course_reports_the_next_phase():
    now = datetime(2024, 4, 2, 9, 0, tzinfo=BERLIN)
    status = course_status(facts(Regimen(INTENSIVE, CLINIC), "active", weekly(5)), now)
    assert status.phase == "biweekly"
    assert status.next_session.number == 6
    assert status.next_session.due == date(2024, 4, 15)
    assert status.results_expected is True
    assert status.photos_due == ("session_4", list(STANDARD_AREAS))


def test_completed_course():
    performed = weekly(10)
    now = performed[-1] + timedelta(days=3)
    status = course_status(
        facts(Regimen(STANDARD, CLINIC), "completed", performed, photo_areas=()), now
    )
    assert status.next_session is None
    assert status.phase == "course"
    assert status.sessions_done == 10
    assert status.results_expected is True
    # The end-of-course photo set is still asked for once the course completes.
    assert status.photos_due == ("session_10", list(STANDARD_AREAS))
    # The end of a completed course is the day its last session was done.
    assert status.projected_end == performed[-1].date()
    assert [item.activity for item in status.aftercare] == [
        "sauna_pool_solarium", "hot_shower_bath", "decorative_cosmetics", "otc_blood_thinners",
        "scalp_procedures", "uncovered_sun"]


def test_paused_intensive_course_in_maintenance():
    performed = weekly(11)
    status = course_status(
        facts(Regimen(INTENSIVE, CLINIC), "paused", performed, photo_areas=STANDARD_AREAS[:6]),
        performed[-1] + timedelta(days=40),
    )
    assert status.next_session is None
    assert status.phase == "maintenance"
    assert status.photos_due == ("maintenance_session_11", ["part_line"])


@pytest.mark.parametrize(
    ("status", "has_next", "has_photos_due"),
    [
        pytest.param("on_hold", False, True, id="on_hold"),
        pytest.param("active", True, True, id="active"),
        pytest.param("paused", False, True, id="paused"),
        pytest.param("completed", False, True, id="completed"),
        pytest.param("ended", False, False, id="ended"),
        pytest.param("cancelled", False, False, id="cancelled"),
    ],
)
def test_next_session_and_photos_by_status(status, has_next, has_photos_due):
    performed = weekly(2)
    result = course_status(
        facts(Regimen(STANDARD, CLINIC), status, performed), performed[-1] + timedelta(days=1)
    )
    assert (result.next_session is not None) is has_next
    assert (result.photos_due is not None) is has_photos_due
