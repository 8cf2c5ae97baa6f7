"""DOMAIN.md section 5: the aftercare timeline as absolute times."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.aftercare import AftercareItem, aftercare_schedule, pending_aftercare, session_end

BERLIN = ZoneInfo("Europe/Berlin")
# The session's end (v2: counted from the end, performed_at + duration).
PERFORMED_AT = datetime(2024, 5, 6, 20, 30, tzinfo=BERLIN)

ROWS = [
    ("comb_hair", datetime(2024, 5, 6, 21, 30, tzinfo=BERLIN)),
    ("touch_scalp", datetime(2024, 5, 7, 0, 30, tzinfo=BERLIN)),
    ("apply_products", datetime(2024, 5, 7, 8, 30, tzinfo=BERLIN)),
    ("wash_hair", datetime(2024, 5, 8, 20, 30, tzinfo=BERLIN)),
    ("gym", datetime(2024, 5, 8, 20, 30, tzinfo=BERLIN)),
    ("sauna_pool_solarium", datetime(2024, 5, 13, 20, 30, tzinfo=BERLIN)),
    ("hot_shower_bath", datetime(2024, 5, 13, 20, 30, tzinfo=BERLIN)),
    ("decorative_cosmetics", datetime(2024, 5, 13, 20, 30, tzinfo=BERLIN)),
    ("otc_blood_thinners", datetime(2024, 5, 13, 20, 30, tzinfo=BERLIN)),
    ("scalp_procedures", datetime(2024, 5, 13, 20, 30, tzinfo=BERLIN)),
    ("uncovered_sun", datetime(2024, 5, 13, 20, 30, tzinfo=BERLIN)),
]
SEVEN_DAYS = [a for a, _ in ROWS[5:]]


@pytest.mark.parametrize(("activity", "allowed_from"), [pytest.param(a, t, id=a) for a, t in ROWS])
def test_each_row(activity, allowed_from):
    items = {item.activity: item for item in aftercare_schedule(PERFORMED_AT)}
    assert items[activity].allowed_from == allowed_from
    assert items[activity].allowed_from.tzinfo is BERLIN


def test_table_order():
    assert [item.activity for item in aftercare_schedule(PERFORMED_AT)] == [a for a, _ in ROWS]


def test_hours_are_elapsed_hours_across_a_dst_change():
    before_change = datetime(2024, 3, 30, 12, 0, tzinfo=BERLIN)
    wash = aftercare_schedule(before_change)[3]
    assert wash == AftercareItem("wash_hair", datetime(2024, 4, 1, 13, 0, tzinfo=BERLIN))
    assert wash.allowed_from.astimezone(UTC) - before_change.astimezone(UTC) == timedelta(hours=48)


def test_naive_time_refused():
    with pytest.raises(ValueError):
        aftercare_schedule(datetime(2024, 5, 6, 20, 30))


@pytest.mark.parametrize(
    ("elapsed", "pending"),
    [
        pytest.param(timedelta(0), [a for a, _ in ROWS], id="at-once"),
        pytest.param(timedelta(hours=1), [a for a, _ in ROWS[1:]], id="at-1h"),
        pytest.param(timedelta(hours=5), [a for a, _ in ROWS[2:]], id="at-5h"),
        pytest.param(timedelta(hours=48), SEVEN_DAYS, id="at-48h"),
        pytest.param(timedelta(days=7), [], id="at-7d"),
    ],
)
def test_pending_aftercare(elapsed, pending):
    now = (PERFORMED_AT + elapsed).astimezone(UTC)
    assert [item.activity for item in pending_aftercare(PERFORMED_AT, now)] == pending


@pytest.mark.parametrize(
    ("duration_minutes", "ended_at"),
    [
        pytest.param(None, PERFORMED_AT, id="duration-unknown"),
        pytest.param(0, PERFORMED_AT, id="zero-minutes"),
        pytest.param(20, datetime(2024, 5, 6, 20, 50, tzinfo=BERLIN), id="20-minutes"),
    ],
)
def test_aftercare_counts_from_the_session_end(duration_minutes, ended_at):
    assert session_end(PERFORMED_AT, duration_minutes) == ended_at
    comb = aftercare_schedule(session_end(PERFORMED_AT, duration_minutes))[0]
    assert comb.allowed_from == ended_at + timedelta(hours=1)
