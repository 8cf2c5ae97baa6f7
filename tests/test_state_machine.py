"""Courses and sessions driven through random valid and invalid sequences (hypothesis).

A `RuleBasedStateMachine` plays a patient and their linked clinician over the
Flask test client: it starts courses (standard or intensive, home or clinic,
with or without screening holds), logs sessions at random past dates (and
invalid ones: in the future, with a needle no device has, on a course that is
not active), corrects and undoes them, pauses, resumes, ends, cancels and
clears holds, checks in after sessions (inside and outside the 20 h - 7 d
window), corrects check-ins and resolves flags. A small model predicts each
answer's status code. After every step the invariants of `/courses`,
`/courses/{id}/status`, `/courses/{id}/sessions` and `/courses/{id}/flags` are
checked, and a refused step must have changed nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from domain.course import (
    ACTIVE,
    CANCELLED,
    COMPLETED,
    ENDED,
    ON_HOLD,
    OPEN_STATUSES,
    PAUSED,
    TRANSITIONS,
)
from domain.regimen import (
    HOME,
    HOME_FIRST_INTERVAL,
    HOME_FIRST_INTERVALS_LAST_SESSION,
    MINIMUM_DAYS,
    STANDARD,
    STANDARD_SESSIONS,
)
from domain.screening import ABSOLUTE_CONDITIONS, CLINICIAN_HOLD, RELATIVE_CONDITIONS

# Zones far apart, so a "day" differs between the server's UTC and the patient.
TIME_ZONES = ("Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York")
REQUESTABLE = (PAUSED, ACTIVE, ENDED, CANCELLED)
PROBLEM_JSON = "application/problem+json"
# The needle lengths a device can have (DOMAIN.md section 3): 0.1-3.0 mm.
VALID_NEEDLES = st.sampled_from((0.25, 0.5, 0.75, 1.0, 1.5, 2.5))
INVALID_NEEDLES = st.sampled_from((0.0, 0.05, 3.5, 10.0))
PHASE_SIZE_CHOICES = (None, (4, 4), (4, 5), (5, 4), (5, 5))
# Side effects of a batch of logged sessions: infection signs and scarring flag at once.
SIDE_EFFECTS = st.sampled_from(((), (), ("redness",), ("infection_signs",),
                                ("scarring", "redness")))
CHECK_IN_ANSWERS = ("redness_persists", "swelling_persists", "infection_signs")
ANSWERS = st.sampled_from(((), (), ("redness_persists",), ("swelling_persists",),
                           ("redness_persists", "infection_signs")))
# The session's duration the machine logs; its check-in window counts from its end.
DURATION = timedelta(minutes=15)
# Screening answered "yes": mostly nothing, else relative and/or absolute reasons.
HOLDS = ((), (), (), (), ("diabetes",), ("epilepsy", "sensitive_skin"), ("pregnancy",),
         ("scalp_damage", "diabetes"))


@dataclass
class CourseModel:
    id: int
    regimen: str
    setting: str
    status: str
    hold_reasons: list[str]
    start_date: date
    # session id -> performed_at, in UTC (so comparing them is comparing instants)
    sessions: dict[int, datetime] = field(default_factory=dict)
    # session id -> its side effects, and its check-in's persisting answers once answered
    side_effects: dict[int, tuple[str, ...]] = field(default_factory=dict)
    check_ins: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # Sessions whose flag a clinician resolved, while their reasons have not changed since.
    resolved: set[int] = field(default_factory=set)

    def reasons(self, session_id: int) -> tuple[str, ...]:
        """DOMAIN.md v2: the check-in decides once answered, else the flagging side effects."""
        if session_id in self.check_ins:
            return self.check_ins[session_id]
        return tuple(effect for effect in self.side_effects[session_id]
                     if effect in ("infection_signs", "scarring"))

    def flagged(self) -> set[int]:
        """A flag is open exactly while its session has reasons no clinician resolved."""
        return {sid for sid in self.sessions if self.reasons(sid) and sid not in self.resolved}

    def set_check_in(self, session_id: int, answers: tuple[str, ...]) -> None:
        before = self.reasons(session_id)
        self.check_ins[session_id] = answers
        if self.reasons(session_id) != before:
            self.resolved.discard(session_id)

    @property
    def sessions_done(self) -> int:
        return len(self.sessions)

    def session_order(self) -> list[int]:
        return sorted(self.sessions, key=lambda sid: (self.sessions[sid], sid))


def minimum_days_before(setting: str, number: int) -> int:
    """DOMAIN.md section 1: never closer than 7 days; 10 for a home course's sessions 2-3."""
    if setting == HOME and number <= HOME_FIRST_INTERVALS_LAST_SESSION:
        return HOME_FIRST_INTERVAL.minimum
    return MINIMUM_DAYS


class CourseMachine(RuleBasedStateMachine):
    """One patient with a linked clinician; a fresh pair for every example."""

    def __init__(self, register, make_clinician, link):
        super().__init__()
        self.register, self.make_clinician, self.link = register, make_clinician, link
        self.courses: dict[int, CourseModel] = {}
        # What the server said after the last step: the course list and each schedule.
        self.listed: dict[int, dict] = {}
        self.schedules: dict[int, list[dict]] = {}
        # The courses the current step aimed at, and whether the server refused it.
        self.touched: set[int] = set()
        self.refused: str | None = None
        # Absolute reasons the patient declared that no clinician has cleared (DOMAIN.md v2):
        # every new course is held by them.
        self.uncleared: set[str] = set()

    # --- helpers ----------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(self.zone).replace(microsecond=0)

    def today(self) -> date:
        return self.now().date()

    def actor(self, clinician: bool):
        return self.clinician if clinician else self.patient

    def answer(self, response, expected: int, step: str):
        """Check the status code against the model; errors are problem+json, never 5xx."""
        code = response.status_code
        assert code < 500, (step, code, response.get_data(as_text=True))
        if code >= 400:
            assert response.content_type == PROBLEM_JSON, (step, response.content_type)
            body = response.get_json()
            assert body["status"] == code and body["title"] and body["detail"], (step, body)
            self.refused = f"{step} -> {code}"
        assert code == expected, (step, f"expected {expected}, got {code}",
                                  response.get_json(silent=True))
        return response.get_json(silent=True)

    def course(self, index: int) -> CourseModel:
        """Mostly the open course, where things happen; sometimes any course."""
        course = self.open_course()
        if course is None or not index % 4:
            course = self.courses[sorted(self.courses)[index % len(self.courses)]]
        self.touched.add(course.id)
        return course

    def session(self, index: int) -> tuple[CourseModel, int]:
        course, session_id = self.all_sessions()[index % len(self.all_sessions())]
        self.touched.add(course.id)
        return course, session_id

    def before_start(self, course: CourseModel, performed_at: datetime) -> bool:
        """DOMAIN.md v2: a course's sessions are on or after its start date (patient's days)."""
        return performed_at.astimezone(self.zone).date() < course.start_date

    def open_course(self) -> CourseModel | None:
        return next((c for c in self.courses.values() if c.status in OPEN_STATUSES), None)

    def all_sessions(self) -> list[tuple[CourseModel, int]]:
        return sorted(((course, sid) for course in self.courses.values()
                       for sid in course.sessions), key=lambda pair: pair[1])

    # --- setting up -------------------------------------------------------------------

    @initialize(zone=st.sampled_from(TIME_ZONES), regimen=st.sampled_from(("standard", "intensive")),
                setting=st.sampled_from(("home", "clinic")), holds=st.sampled_from(HOLDS),
                start_offset=st.integers(-120, 10))
    def first_course(self, zone, regimen, setting, holds, start_offset):
        """A patient and their linked clinician, and the patient's first course."""
        self.patient = self.register(timezone=zone)
        self.zone = ZoneInfo(zone)
        self.clinician = self.make_clinician()
        self.link(self.patient, self.clinician)
        self.start_course(regimen, setting, holds, start_offset, None, None)

    # --- courses ----------------------------------------------------------------------

    @rule(regimen=st.sampled_from(("standard", "intensive")),
          setting=st.sampled_from(("home", "clinic")),
          holds=st.sampled_from(HOLDS),
          start_offset=st.integers(-120, 10), sizes=st.sampled_from(PHASE_SIZE_CHOICES),
          mistake=st.sampled_from((None,) * 5 + ("sizes on standard", "too far back",
                                                 "too far ahead")))
    def start_course(self, regimen, setting, holds, start_offset, sizes, mistake):
        if mistake == "too far back":
            start_offset = -366
        elif mistake == "too far ahead":
            start_offset = 91
        if regimen == STANDARD:
            sizes = (5, 4) if mistake == "sizes on standard" else None
        elif mistake == "sizes on standard":
            mistake = None
        body = {"regimen": regimen, "setting": setting,
                "start_date": (self.today() + timedelta(days=start_offset)).isoformat(),
                "screening": {condition: True for condition in holds}}
        if sizes:
            body["weekly_sessions"], body["biweekly_sessions"] = sizes
        if mistake is not None:
            expected = 422
        elif self.open_course() is not None:
            expected = 409
        else:
            expected = 201
        created = self.answer(self.patient.post("/courses", json=body), expected, "start course")
        if expected == 201:
            reasons = [c for c in (*ABSOLUTE_CONDITIONS, *RELATIVE_CONDITIONS, CLINICIAN_HOLD)
                       if c in holds or c in self.uncleared]
            assert created["status"] == (ON_HOLD if reasons else ACTIVE)
            assert created["hold_reasons"] == reasons
            self.uncleared |= {r for r in reasons if r in (*ABSOLUTE_CONDITIONS, CLINICIAN_HOLD)}
            self.touched.add(created["id"])
            self.courses[created["id"]] = CourseModel(
                created["id"], regimen, setting, created["status"], reasons,
                date.fromisoformat(created["start_date"]))

    @precondition(lambda self: self.courses)
    @rule(index=st.integers(0, 50), wanted=st.sampled_from(REQUESTABLE * 2 + (COMPLETED, ON_HOLD)),
          by_clinician=st.booleans())
    def change_status(self, index, wanted, by_clinician):
        course = self.course(index)
        clinical_hold = (course.status == ON_HOLD and CLINICIAN_HOLD in course.hold_reasons
                         and CLINICIAN_HOLD in self.uncleared)
        if wanted not in REQUESTABLE:
            expected = 422
        elif clinical_hold and not by_clinician and wanted != CANCELLED:
            expected = 403
        elif wanted == course.status or (course.status, wanted) in TRANSITIONS:
            expected = 200
        else:
            expected = 409
        response = self.actor(by_clinician).patch(f"/courses/{course.id}",
                                                  json={"status": wanted})
        body = self.answer(response, expected, f"{course.status} -> {wanted}")
        if expected == 200:
            assert body["status"] == wanted
            course.status = wanted

    @precondition(lambda self: self.courses)
    @rule(index=st.integers(0, 50), by_clinician=st.booleans())
    def clinical_hold(self, index, by_clinician):
        """DOMAIN.md v2: a linked clinician holds an active or paused course, with a note."""
        course = self.course(index)
        if not by_clinician:
            expected = 403
        elif course.status in (ACTIVE, PAUSED):
            expected = 200
        else:
            expected = 409
        response = self.actor(by_clinician).patch(f"/courses/{course.id}", json={
            "status": ON_HOLD, "note": "Redness for three days: come and see me."})
        body = self.answer(response, expected, f"clinical hold on {course.status}")
        if expected == 200:
            assert body["status"] == ON_HOLD and body["hold_reasons"] == [CLINICIAN_HOLD]
            course.status = ON_HOLD
            # Held from active or paused: what it was on hold for before was cleared.
            course.hold_reasons = [CLINICIAN_HOLD]
            self.uncleared.add(CLINICIAN_HOLD)

    @precondition(lambda self: any(c.status == ON_HOLD for c in self.courses.values()))
    @rule(index=st.integers(0, 50), by_clinician=st.booleans())
    def clear_hold(self, index, by_clinician):
        """Mostly the course on hold; sometimes another one (409)."""
        course = self.course(index)
        absolute = [r for r in course.hold_reasons if r in (*ABSOLUTE_CONDITIONS, CLINICIAN_HOLD)]
        if course.status != ON_HOLD:
            expected = 409
        elif absolute and not by_clinician:
            expected = 403
        else:
            expected = 200
        response = self.actor(by_clinician).post(f"/courses/{course.id}/clearance",
                                                 json={"note": "Cleared by Dr. Weber."})
        body = self.answer(response, expected, f"clear {course.status} {course.hold_reasons}")
        if expected == 200:
            assert body["status"] == ACTIVE
            course.status = ACTIVE
            self.uncleared -= set(absolute)

    # --- sessions ---------------------------------------------------------------------

    @precondition(lambda self: self.courses)
    @rule(index=st.integers(0, 50), count=st.integers(1, 10), gap=st.integers(1, 16),
          # Often a latest session a day or few ago: its check-in window is open.
          extra_days=st.one_of(st.integers(1, 6), st.integers(0, 30)), needle=VALID_NEEDLES,
          by_clinician=st.booleans(),
          side_effects=SIDE_EFFECTS)
    def log_sessions(self, index, count, gap, extra_days, needle, by_clinician, side_effects):
        """A phone syncing `count` sessions `gap` days apart, the latest `extra_days` ago;
        one 409 if the course is not active."""
        course = self.course(index)
        performed_at = self.now() - timedelta(days=(count - 1) * gap + extra_days, minutes=30)
        if course.status != ACTIVE:
            self.answer(self._post_session(course, performed_at, needle, by_clinician,
                                           side_effects), 409, f"log on {course.status}")
            return
        logged = False
        for _ in range(count):
            if course.status != ACTIVE:
                break
            if self.before_start(course, performed_at):
                self.answer(self._post_session(course, performed_at, needle, by_clinician,
                                               side_effects), 422,
                            "log before the course's start")
                performed_at += timedelta(days=gap)
                continue
            body = self.answer(self._post_session(course, performed_at, needle, by_clinician,
                                                  side_effects), 201, "log on active")
            logged = True
            session_id = body["session"]["id"]
            course.sessions[session_id] = performed_at.astimezone(timezone.utc)
            course.side_effects[session_id] = side_effects
            if course.regimen == STANDARD and course.sessions_done >= STANDARD_SESSIONS:
                course.status = COMPLETED
            performed_at += timedelta(days=gap)
        if logged:
            # The sessions before the start were refused, the later ones logged: a change.
            self.refused = None

    @precondition(lambda self: self.courses)
    @rule(index=st.integers(0, 50), hours_ahead=st.integers(1, 24 * 40),
          bad_needle=INVALID_NEEDLES, future=st.booleans())
    def log_invalid_session(self, index, hours_ahead, bad_needle, future):
        """In the future (422 on an active course, else 409) or a needle no device has (422)."""
        course = self.course(index)
        if future:
            performed_at = self.now() + timedelta(hours=hours_ahead)
            expected = 422 if course.status == ACTIVE else 409
            needle = 0.5
        else:
            performed_at = self.now() - timedelta(hours=hours_ahead)
            expected, needle = 422, bad_needle
        self.answer(self._post_session(course, performed_at, needle, False), expected,
                    f"log invalid (future {future}) on {course.status}")

    def _post_session(self, course, performed_at: datetime, needle: float, by_clinician: bool,
                      side_effects: tuple[str, ...] = ()):
        return self.actor(by_clinician).post(f"/courses/{course.id}/sessions", json={
            "performed_at": performed_at.isoformat(), "needle_length_mm": needle,
            "device_disinfected": True, "duration_minutes": DURATION.seconds // 60,
            "pain_score": 2, "side_effects": list(side_effects)})

    @precondition(lambda self: any(course.sessions for course in self.courses.values()))
    @rule(index=st.integers(0, 200), days_ago=st.integers(0, 200),
          future=st.booleans(), bad_needle=st.booleans())
    def correct_session(self, index, days_ago, future, bad_needle):
        course, session_id = self.session(index)
        if future:
            performed_at = self.now() + timedelta(days=days_ago + 1)
        else:
            performed_at = self.now() - timedelta(days=days_ago, minutes=7)
        body = {"performed_at": performed_at.isoformat()}
        if bad_needle:
            body["needle_length_mm"] = 4.0
        expected = 422 if future or bad_needle or self.before_start(course, performed_at) else 200
        response = self.patient.patch(f"/sessions/{session_id}", json=body)
        self.answer(response, expected, "correct session")
        if expected == 200:
            course.sessions[session_id] = performed_at.astimezone(timezone.utc)

    @precondition(lambda self: any(course.sessions for course in self.courses.values()))
    @rule(index=st.integers(0, 200), by_clinician=st.booleans())
    def undo_session(self, index, by_clinician):
        course, session_id = self.session(index)
        reopens = course.status == COMPLETED
        other = self.open_course()
        expected = 409 if reopens and other is not None else 204
        response = self.actor(by_clinician).delete(f"/sessions/{session_id}")
        self.answer(response, expected, f"undo on {course.status}")
        if expected == 204:
            del course.sessions[session_id]
            if reopens:
                course.status = ACTIVE
            course.side_effects.pop(session_id)
            course.check_ins.pop(session_id, None)
            course.resolved.discard(session_id)

    # --- check-ins and flags ----------------------------------------------------------

    def check_in_state(self, course: CourseModel, session_id: int) -> str:
        """Where now falls in the session's check-in window: early, open or closed."""
        end = course.sessions[session_id] + DURATION
        now = datetime.now(timezone.utc)
        if now < end + timedelta(hours=20):
            return "early"
        return "closed" if now > end + timedelta(days=7) else "open"

    @precondition(lambda self: any(course.sessions for course in self.courses.values()))
    @rule(index=st.integers(0, 200), answers=ANSWERS, by_clinician=st.booleans(),
          in_window=st.booleans())
    def check_in(self, index, answers, by_clinician, in_window):
        """201 once, in the window; 409 for a second; 422 outside it; 403 for a clinician."""
        course, session_id = self.session(index)
        # Half the time a session whose window is open, if there is one (sessions are
        # logged at random dates, mostly outside their 20 h - 7 d window).
        waiting = [(course, sid) for course, sid in self.all_sessions()
                   if self.check_in_state(course, sid) == "open" and sid not in course.check_ins]
        if in_window and waiting:
            course, session_id = waiting[index % len(waiting)]
            self.touched.add(course.id)
        if by_clinician:
            expected = 403
        elif session_id in course.check_ins:
            expected = 409
        else:
            expected = 201 if self.check_in_state(course, session_id) == "open" else 422
        response = self.actor(by_clinician).post(f"/sessions/{session_id}/check-in", json={
            answer: answer in answers for answer in CHECK_IN_ANSWERS})
        self.answer(response, expected, "check in")
        if expected == 201:
            course.set_check_in(session_id, answers)

    @precondition(lambda self: any(course.check_ins for course in self.courses.values()))
    @rule(index=st.integers(0, 200), answers=ANSWERS)
    def correct_check_in(self, index, answers):
        course, session_id = self.session(index)
        if session_id not in course.check_ins:
            expected = 409
        else:
            expected = 422 if self.check_in_state(course, session_id) == "closed" else 200
        response = self.patient.patch(f"/sessions/{session_id}/check-in", json={
            answer: answer in answers for answer in CHECK_IN_ANSWERS})
        self.answer(response, expected, "correct check-in")
        if expected == 200:
            course.set_check_in(session_id, answers)

    @precondition(lambda self: any(course.flagged() for course in self.courses.values()))
    @rule(index=st.integers(0, 50), by_clinician=st.booleans())
    def resolve_flag(self, index, by_clinician):
        """A linked clinician lowers an open flag with a note; the patient may not (403)."""
        flagged = [(course, sid) for course in self.courses.values()
                   for sid in sorted(course.flagged())]
        course, session_id = flagged[index % len(flagged)]
        self.touched.add(course.id)
        (flag,) = [flag for flag in self.read_list(f"/courses/{course.id}/flags")
                   if flag["open"] and flag["session_id"] == session_id]
        response = self.actor(by_clinician).post(f"/flags/{flag['id']}/resolve",
                                                 json={"note": "Seen in clinic."})
        self.answer(response, 200 if by_clinician else 403, "resolve flag")
        if by_clinician:
            course.resolved.add(session_id)

    # --- invariants -------------------------------------------------------------------

    @invariant()
    def state_holds_together(self):
        """The course list and the courses the step aimed at, against the model;
        after a refused step, exactly what they were before it."""
        if not hasattr(self, "patient"):
            return
        listed = {course["id"]: course for course in self.read_list("/courses")}
        schedules = {course_id: self.read_list(f"/courses/{course_id}/sessions")
                     for course_id in self.touched}
        if self.refused is not None:
            before = {course_id: self.schedules.get(course_id) for course_id in self.touched}
            assert (listed, schedules) == (self.listed, before), \
                f"a refused step changed something: {self.refused}"
        self.listed = listed
        self.schedules.update(schedules)
        # DOMAIN.md v2: no course is active while an absolute reason awaits a clinician.
        if self.uncleared:
            assert all(course["status"] != ACTIVE for course in listed.values()), self.uncleared
        self.check_list()
        for course_id in self.touched:
            self.check_course(self.courses[course_id], schedules[course_id],
                              self.read_status(course_id))
        self.touched, self.refused = set(), None

    def teardown(self):
        """Every course once more: nothing changed that no step aimed at."""
        if not hasattr(self, "patient"):
            return
        for course_id, model in self.courses.items():
            schedule = self.read_list(f"/courses/{course_id}/sessions")
            assert schedule == self.schedules[course_id], course_id
            self.check_course(model, schedule, self.read_status(course_id))

    def check_list(self):
        assert sorted(self.listed) == sorted(self.courses)
        open_courses = [course_id for course_id, course in self.listed.items()
                        if course["status"] in OPEN_STATUSES]
        assert len(open_courses) <= 1, open_courses
        for course_id, model in self.courses.items():
            assert self.listed[course_id]["status"] == model.status, (course_id, model)

    def check_course(self, model: CourseModel, schedule: list[dict], status: dict):
        done = [item for item in schedule if item["state"] == "done"]
        projected = [item for item in schedule if item["state"] == "projected"]
        assert schedule == done + projected, "done sessions come before projected ones"
        # Numbered 1..n without gaps, in date order, the same sessions as the model.
        assert [item["number"] for item in done] == list(range(1, len(done) + 1))
        moments = [datetime.fromisoformat(item["performed_at"]) for item in done]
        assert moments == sorted(moments)
        assert [item["id"] for item in done] == model.session_order()
        assert [item["number"] for item in projected] == list(
            range(len(done) + 1, len(done) + 1 + len(projected)))
        # Projected sessions never closer to the previous one than the safety minimum.
        previous = moments[-1].date() if moments else None
        for item in projected:
            earliest = date.fromisoformat(item["earliest"])
            if previous is not None:
                gap = (earliest - previous).days
                assert gap >= minimum_days_before(model.setting, item["number"]), (item, previous)
            previous = date.fromisoformat(item["due"])

        flags = self.read_list(f"/courses/{model.id}/flags")
        open_sessions = [flag["session_id"] for flag in flags if flag["open"]]
        assert len(open_sessions) == len(set(open_sessions)), "one open flag per session"
        assert set(open_sessions) == model.flagged(), (flags, model)
        assert sorted(flag["session_id"] for flag in status["open_flags"]) == sorted(
            open_sessions)
        assert status["flags"] == (["consult_doctor"] if open_sessions else [])

        assert status["status"] == model.status
        assert status["sessions_done"] == len(done)
        standard_complete = model.regimen == STANDARD and len(done) >= STANDARD_SESSIONS
        assert (status["status"] == COMPLETED) == standard_complete, (status["status"], len(done))
        if model.regimen == STANDARD:
            assert len(done) <= STANDARD_SESSIONS
        if model.status in (COMPLETED, ENDED, CANCELLED):
            assert projected == []
        upcoming = status["next_session"]
        if model.status != ACTIVE:
            assert upcoming is None, status
        else:
            assert upcoming is not None and upcoming["number"] == len(done) + 1, status
            if moments:
                gap = (date.fromisoformat(upcoming["earliest"]) - moments[-1].date()).days
                assert gap >= minimum_days_before(model.setting, upcoming["number"])

    def read_list(self, path: str) -> list[dict]:
        items, cursor = [], ""
        while True:
            response = self.patient.get(path, query_string={"limit": 200, "cursor": cursor})
            assert response.status_code == 200, response.get_json()
            page = response.get_json()
            items += page["items"]
            if page["next_cursor"] is None:
                return items
            cursor = page["next_cursor"]

    def read_status(self, course_id: int) -> dict:
        response = self.patient.get(f"/courses/{course_id}/status")
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def test_courses_and_sessions_keep_their_invariants(register, make_clinician, link):
    run_state_machine_as_test(
        lambda: CourseMachine(register, make_clinician, link),
        settings=settings(max_examples=30, stateful_step_count=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )
