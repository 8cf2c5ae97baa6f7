"""DOMAIN.md section 6: photo milestones and the areas still missing."""

import pytest

from domain.photos import STANDARD_AREAS, Milestone, current_milestone, photos_due
from domain.regimen import CLINIC, INTENSIVE, STANDARD, Regimen

STANDARD_COURSE = Regimen(STANDARD, CLINIC)
INTENSIVE_5_5 = Regimen(INTENSIVE, CLINIC)
INTENSIVE_4_4 = Regimen(INTENSIVE, CLINIC, 4, 4)
INTENSIVE_4_5 = Regimen(INTENSIVE, CLINIC, 4, 5)
INTENSIVE_5_4 = Regimen(INTENSIVE, CLINIC, 5, 4)


def maintenance(number):
    return Milestone(f"maintenance_session_{number}", number)


def test_standard_areas():
    assert STANDARD_AREAS == (
        "frontal", "mid_scalp", "vertex", "left_temple", "right_temple", "occipital", "part_line",
    )


@pytest.mark.parametrize(
    ("regimen", "sessions_done", "milestone"),
    [
        pytest.param(STANDARD_COURSE, 0, Milestone("baseline", 0), id="standard-0"),
        pytest.param(STANDARD_COURSE, 3, Milestone("baseline", 0), id="standard-3"),
        pytest.param(STANDARD_COURSE, 4, Milestone("session_4", 4), id="standard-4"),
        pytest.param(STANDARD_COURSE, 9, Milestone("session_4", 4), id="standard-9"),
        pytest.param(STANDARD_COURSE, 10, Milestone("session_10", 10), id="standard-10"),
        pytest.param(INTENSIVE_5_5, 10, Milestone("session_10", 10), id="intensive-5-5-10"),
        pytest.param(INTENSIVE_5_5, 11, maintenance(11), id="intensive-5-5-11"),
        pytest.param(INTENSIVE_5_5, 12, maintenance(12), id="intensive-5-5-12"),
        # v2: the end-of-course set comes after session W+B of an intensive course.
        pytest.param(INTENSIVE_4_4, 7, Milestone("session_4", 4), id="intensive-4-4-7"),
        pytest.param(INTENSIVE_4_4, 8, Milestone("session_8", 8), id="intensive-4-4-8"),
        pytest.param(INTENSIVE_4_4, 9, maintenance(9), id="intensive-4-4-9"),
        pytest.param(INTENSIVE_4_4, 10, maintenance(10), id="intensive-4-4-10"),
        pytest.param(INTENSIVE_4_4, 11, maintenance(11), id="intensive-4-4-11"),
        pytest.param(INTENSIVE_4_5, 8, Milestone("session_4", 4), id="intensive-4-5-8"),
        pytest.param(INTENSIVE_4_5, 9, Milestone("session_9", 9), id="intensive-4-5-9"),
        pytest.param(INTENSIVE_4_5, 10, maintenance(10), id="intensive-4-5-10"),
        pytest.param(INTENSIVE_5_4, 9, Milestone("session_9", 9), id="intensive-5-4-9"),
        pytest.param(INTENSIVE_5_4, 10, maintenance(10), id="intensive-5-4-10"),
    ],
)
def test_current_milestone(regimen, sessions_done, milestone):
    assert current_milestone(regimen, sessions_done) == milestone


@pytest.mark.parametrize(
    ("photographed", "due"),
    [
        pytest.param([], ("session_4", list(STANDARD_AREAS)), id="none-taken"),
        pytest.param(
            ["part_line", "frontal", "vertex", "vertex"],
            ("session_4", ["mid_scalp", "left_temple", "right_temple", "occipital"]),
            id="some-taken",
        ),
        pytest.param(list(STANDARD_AREAS) + ["beard"], None, id="all-taken"),
    ],
)
def test_photos_due(photographed, due):
    assert photos_due(Milestone("session_4", 4), photographed) == due
