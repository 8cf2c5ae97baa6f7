"""Photo milestones (DOMAIN.md section 6): which set of standard photos is due when."""

from collections.abc import Iterable
from dataclasses import dataclass

from domain.regimen import FIRST_CHANGES_SESSION, MAINTENANCE, STANDARD_SESSIONS, Regimen

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


@dataclass(frozen=True)
class Milestone:
    """A point in the course where a full set of photos is taken, after session `after_session`."""

    name: str
    after_session: int


def current_milestone(regimen: Regimen, sessions_done: int) -> Milestone:
    """The latest milestone reached.

    [product decision] A baseline set before session 1, then after session 4
    ("first changes no earlier than the 4th"), session 10 (end of the course)
    and each maintenance session.
    """
    if sessions_done != STANDARD_SESSIONS and regimen.phase_of(sessions_done) == MAINTENANCE:
        return Milestone(f"maintenance_session_{sessions_done}", sessions_done)
    for session in (STANDARD_SESSIONS, FIRST_CHANGES_SESSION):
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
