"""Regimens (DOMAIN.md section 1): the phase of each session and the interval before it."""

from dataclasses import dataclass

from domain.errors import RuleViolation

STANDARD = "standard"
INTENSIVE = "intensive"
REGIMENS = (STANDARD, INTENSIVE)

HOME = "home"
CLINIC = "clinic"
SETTINGS = (HOME, CLINIC)

COURSE = "course"
WEEKLY = "weekly"
BIWEEKLY = "biweekly"
MAINTENANCE = "maintenance"

# [003] "the first 4-5 procedures should be performed at intervals of a week,
# then 4-5 procedures at intervals of 2 weeks"
PHASE_SIZES = (4, 5)
DEFAULT_PHASE_SIZE = 5
# [003] "the course is 10 procedures with an interval of 7-10 days"
STANDARD_SESSIONS = 10
# [003] "You may notice the first changes no earlier than the 4th procedure"
FIRST_CHANGES_SESSION = 4


@dataclass(frozen=True)
class Interval:
    """Days from one session to the next: the target, the on-time window and the safety minimum."""

    target: int
    window_start: int
    window_end: int
    minimum: int


# [003] "Do not carry out the procedure more than once a week"
MINIMUM_DAYS = 7
# [003] "10 procedures with an interval of 7-10 days"; "at intervals of a week"
WEEKLY_INTERVAL = Interval(target=7, window_start=7, window_end=10, minimum=MINIMUM_DAYS)
# [003] "then 4-5 procedures at intervals of 2 weeks"; window 14-17 [product decision]
BIWEEKLY_INTERVAL = Interval(target=14, window_start=14, window_end=17, minimum=MINIMUM_DAYS)
# [003] "then switch to a maintenance regimen once a month"; window 28-35 [product decision]
MAINTENANCE_INTERVAL = Interval(target=30, window_start=28, window_end=35, minimum=MINIMUM_DAYS)
# [003] "(at first you need to do the procedure no more than once every 10 days)";
# at home, the intervals 1->2 and 2->3 [product decision: our reading of "at first"]
HOME_FIRST_INTERVAL = Interval(target=10, window_start=10, window_end=13, minimum=10)
HOME_FIRST_INTERVALS_LAST_SESSION = 3

PHASE_INTERVALS = {
    COURSE: WEEKLY_INTERVAL,
    WEEKLY: WEEKLY_INTERVAL,
    BIWEEKLY: BIWEEKLY_INTERVAL,
    MAINTENANCE: MAINTENANCE_INTERVAL,
}


@dataclass(frozen=True)
class Phase:
    """A run of sessions at one pace: its name, first session and last (None: open-ended)."""

    name: str
    first: int
    last: int | None

    @property
    def interval(self) -> Interval:
        return PHASE_INTERVALS[self.name]


@dataclass(frozen=True)
class Regimen:
    """How a course is paced: its kind, its setting and the sizes of the intensive phases."""

    kind: str
    setting: str
    weekly_sessions: int = DEFAULT_PHASE_SIZE
    biweekly_sessions: int = DEFAULT_PHASE_SIZE

    def __post_init__(self) -> None:
        if self.kind not in REGIMENS:
            raise RuleViolation(f"regimen must be one of: {', '.join(REGIMENS)}", field="regimen")
        if self.setting not in SETTINGS:
            raise RuleViolation(f"setting must be one of: {', '.join(SETTINGS)}", field="setting")
        for field, size in (
            ("weekly_sessions", self.weekly_sessions),
            ("biweekly_sessions", self.biweekly_sessions),
        ):
            if size not in PHASE_SIZES:
                raise RuleViolation(f"{field} must be 4 or 5", field=field)

    def phase_of(self, number: int) -> str:
        """The phase session `number` belongs to."""
        if self.kind == STANDARD:
            return COURSE
        if number <= self.weekly_sessions:
            return WEEKLY
        if number <= self.sessions_planned:
            return BIWEEKLY
        return MAINTENANCE

    def interval_before(self, number: int) -> Interval:
        """The gap from session `number - 1` to session `number`, set by the phase of `number`."""
        if number < 2:
            raise ValueError(f"session {number} has no previous session")
        if self.setting == HOME and number <= HOME_FIRST_INTERVALS_LAST_SESSION:
            return HOME_FIRST_INTERVAL
        return PHASE_INTERVALS[self.phase_of(number)]

    @property
    def sessions_planned(self) -> int:
        """Sessions of the fixed part; an intensive course's maintenance goes on beyond it."""
        if self.kind == STANDARD:
            return STANDARD_SESSIONS
        return self.weekly_sessions + self.biweekly_sessions

    @property
    def phases(self) -> tuple[Phase, ...]:
        """The phases in order: a standard course has one; an intensive one ends in maintenance."""
        if self.kind == STANDARD:
            return (Phase(COURSE, 1, STANDARD_SESSIONS),)
        return (Phase(WEEKLY, 1, self.weekly_sessions),
                Phase(BIWEEKLY, self.weekly_sessions + 1, self.sessions_planned),
                Phase(MAINTENANCE, self.sessions_planned + 1, None))

    def summary(self) -> str:
        """The regimen in words, from the numbers above (PDF cover, dashboard)."""
        if self.kind == STANDARD:
            pace = WEEKLY_INTERVAL
            paced = (f"standard: {STANDARD_SESSIONS} sessions, one every "
                     f"{pace.window_start}-{pace.window_end} days")
        else:
            paced = (f"intensive: {self.weekly_sessions} weekly, then {self.biweekly_sessions} "
                     f"every {BIWEEKLY_INTERVAL.target // 7} weeks, then monthly maintenance")
        return f"{paced}; at {'home' if self.setting == HOME else 'a clinic'}"

    def completes_after(self, sessions_done: int) -> bool:
        """Whether the course is over; only a standard course ends by itself."""
        return self.kind == STANDARD and sessions_done >= STANDARD_SESSIONS
