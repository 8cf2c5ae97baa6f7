"""Photo milestones (DOMAIN.md section 6): which set of standard photos is due when."""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from domain.clock import in_the_future
from domain.regimen import FIRST_CHANGES_SESSION, MAINTENANCE, Regimen

STANDARD_AREAS = (
    "frontal",
    "mid_scalp",
    "vertex",
    "left_temple",
    "right_temple",
    "occipital",
    "part_line",
)

BASELINE = "baseline"

# Who says when a photo was taken: the camera's EXIF, the app, or the upload time.
EXIF, CLIENT, SERVER = "exif", "client", "server"
TAKEN_AT_SOURCES = (EXIF, CLIENT, SERVER)
# [product decision] An EXIF capture time before this comes from a camera whose clock was
# never set.
EARLIEST_CAPTURE = datetime(2000, 1, 1, tzinfo=timezone.utc)
# The periods the photo timeline counts by.
WEEK, MONTH = "week", "month"
TIMELINE_BUCKETS = (WEEK, MONTH)


@dataclass(frozen=True)
class Milestone:
    """A point in the course where a full set of photos is taken, after session `after_session`."""

    name: str
    after_session: int


def current_milestone(regimen: Regimen, sessions_done: int) -> Milestone:
    """The latest milestone reached.

    [product decision] A baseline set before session 1, then after session 4
    ("first changes no earlier than the 4th"), at the end of the course (session
    10 of a standard course, session W+B of an intensive one: v2) and at each
    maintenance session.
    """
    end_of_course = regimen.sessions_planned
    if sessions_done > end_of_course and regimen.phase_of(sessions_done) == MAINTENANCE:
        return Milestone(f"maintenance_session_{sessions_done}", sessions_done)
    for session in (end_of_course, FIRST_CHANGES_SESSION):
        if sessions_done >= session:
            return Milestone(f"session_{session}", session)
    return Milestone(BASELINE, 0)


def photos_due(
    milestone: Milestone, areas_photographed: Iterable[str]
) -> tuple[str, list[str]] | None:
    """The milestone's name and the standard areas still missing, or None when all are there."""
    photographed = set(areas_photographed)
    missing = [area for area in STANDARD_AREAS if area not in photographed]
    return (milestone.name, missing) if missing else None


def capture_time(exif_time: datetime | None, client_time: datetime | None, zone: ZoneInfo,
                 now: datetime) -> tuple[datetime, str]:
    """When the photo was taken, and who says so.

    The camera's EXIF time with its offset; else the app's `taken_at`; else an
    EXIF time without offset, read in the patient's zone; else the upload time.
    An EXIF time before 2000 or in the future is a clock never set: ignored.
    """
    def plausible(moment: datetime) -> bool:
        return EARLIEST_CAPTURE <= moment and not in_the_future(moment, now)

    if exif_time is not None and exif_time.tzinfo is not None and plausible(exif_time):
        return exif_time, EXIF
    if client_time is not None:
        return client_time, CLIENT
    if exif_time is not None and exif_time.tzinfo is None:
        local = exif_time.replace(tzinfo=zone)
        if plausible(local):
            return local, EXIF
    return now.astimezone(zone), SERVER


def local_time(taken_at: datetime, offset_minutes: int) -> datetime:
    """The capture time where the photo was taken (its own UTC offset)."""
    return taken_at.astimezone(timezone(timedelta(minutes=offset_minutes)))


@dataclass(frozen=True)
class PhotoPlace:
    """Where a photo stands in its course: the session it goes with, and whether it was linked.

    `session_number` is the session the photo was linked to, else the number of
    sessions done when it was taken (0: a baseline photo, before session 1).
    """

    session_number: int
    linked: bool

    def caption(self, day: date) -> str:
        """"2026-11-02, baseline", "2026-12-20, session 5" or "2027-01-03, after session 6"."""
        if self.linked:
            return f"{day.isoformat()}, session {self.session_number}"
        if self.session_number == 0:
            return f"{day.isoformat()}, {BASELINE}"
        return f"{day.isoformat()}, after session {self.session_number}"


def place_in_course(taken_at: datetime, linked_number: int | None,
                    performed: Sequence[datetime]) -> PhotoPlace:
    """The photo's place: its linked session, else the sessions performed by the time it was taken."""
    if linked_number is not None:
        return PhotoPlace(linked_number, True)
    return PhotoPlace(sum(1 for moment in performed if moment <= taken_at), False)


def photo_timeline(photos: Iterable[tuple[datetime, int, str]], bucket: str) -> list[dict]:
    """Photos counted per week (from Monday) or month and area, newest period first.

    `photos` are (taken_at, UTC offset in minutes, area); a photo falls on the
    day it was taken where it was taken (its own offset).
    """
    counts: Counter = Counter()
    for taken_at, offset_minutes, area in photos:
        day = local_time(taken_at, offset_minutes).date()
        start = day - timedelta(days=day.weekday()) if bucket == WEEK else day.replace(day=1)
        counts[start, area] += 1
    order = {area: index for index, area in enumerate(STANDARD_AREAS)}
    return [{"period": period, "area": area, "count": count}
            for (period, area), count in sorted(
                counts.items(), key=lambda item: (-item[0][0].toordinal(), order[item[0][1]]))]
