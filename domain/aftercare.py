"""The aftercare timeline (DOMAIN.md section 5): when the patient may do each thing again."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# From the session's end [003, 004]: v2, `performed_at` (its start) + its duration.
AFTERCARE = (
    # [003] "For 1 hour after the procedure, you should not comb your hair"
    ("comb_hair", timedelta(hours=1)),
    # [003] "for 4 hours, do not touch the scalp with your hands"
    ("touch_scalp", timedelta(hours=4)),
    # [003] "Any products can be applied to the scalp only after 12 hours"
    ("apply_products", timedelta(hours=12)),
    # [003] "Wash your hair no earlier than every other day" [product decision: 48 h]
    ("wash_hair", timedelta(hours=48)),
    # v2 [001] "avoid ... a gym" while the micro-wounds heal; [004] "up to two days for the
    # skin to recover" [product decision: 48 h]
    ("gym", timedelta(hours=48)),
    # v2 [003] "after 1-2 days", [004] "for another week ... avoid baths, saunas, hot
    # showers": we take the stricter
    ("sauna_pool_solarium", timedelta(days=7)),
    # v2 [004] "avoid baths, saunas, hot showers"
    ("hot_shower_bath", timedelta(days=7)),
    # v2 [004] "refuse decorative cosmetics and cleansing tonics"; [001] "without ... cosmetics"
    ("decorative_cosmetics", timedelta(days=7)),
    # v2 [004] "refrain from taking blood thinning tablets" (without a prescription: a
    # prescribed medicine is never stopped without the doctor)
    ("otc_blood_thinners", timedelta(days=7)),
    # [003] "active cosmetic procedures on the scalp - no earlier than a week later"; [004]
    ("scalp_procedures", timedelta(days=7)),
    # [003, 004] sun on the scalp without a hat or SPF; tight hats
    ("uncovered_sun", timedelta(days=7)),
)


@dataclass(frozen=True)
class AftercareItem:
    """An activity and the moment it is allowed again."""

    activity: str
    allowed_from: datetime


def session_end(performed_at: datetime, duration_minutes: int | None) -> datetime:
    """When a session ended: it started at `performed_at` and lasted its duration, if known."""
    return performed_at + timedelta(minutes=duration_minutes or 0)


def aftercare_schedule(ended_at: datetime) -> list[AftercareItem]:
    """Every aftercare item of a session that ended at `ended_at`, as times in its zone."""
    if ended_at.tzinfo is None:
        raise ValueError("ended_at must be timezone-aware")
    # Elapsed time, not wall-clock time: "48 h" across a DST change is still 48 hours.
    ended_utc = ended_at.astimezone(UTC)
    return [
        AftercareItem(activity, (ended_utc + delay).astimezone(ended_at.tzinfo))
        for activity, delay in AFTERCARE
    ]


def pending_aftercare(ended_at: datetime, now: datetime) -> list[AftercareItem]:
    """The aftercare items still in the future at `now`."""
    return [item for item in aftercare_schedule(ended_at) if item.allowed_from > now]
