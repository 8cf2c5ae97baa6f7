"""The aftercare timeline (DOMAIN.md section 5): when the patient may do each thing again."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# From the session's completion time [003, 004].
AFTERCARE = (
    # [003] "For 1 hour after the procedure, you should not comb your hair"
    ("comb_hair", timedelta(hours=1)),
    # [003] "for 4 hours, do not touch the scalp with your hands"
    ("touch_scalp", timedelta(hours=4)),
    # [003] "Any products can be applied to the scalp only after 12 hours"
    ("apply_products", timedelta(hours=12)),
    # [003] "Wash your hair no earlier than every other day" [product decision: 48 h]
    ("wash_hair", timedelta(hours=48)),
    # [003] "The solarium, bathhouse, sauna, and swimming pool can also be visited after
    # 1-2 days" (we take the later bound)
    ("sauna_pool_solarium", timedelta(hours=48)),
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


def aftercare_schedule(performed_at: datetime) -> list[AftercareItem]:
    """Every aftercare item of a session, as times in the zone of `performed_at`."""
    if performed_at.tzinfo is None:
        raise ValueError("performed_at must be timezone-aware")
    # Elapsed time, not wall-clock time: "48 h" across a DST change is still 48 hours.
    performed_utc = performed_at.astimezone(UTC)
    return [
        AftercareItem(activity, (performed_utc + delay).astimezone(performed_at.tzinfo))
        for activity, delay in AFTERCARE
    ]


def pending_aftercare(performed_at: datetime, now: datetime) -> list[AftercareItem]:
    """The aftercare items still in the future at `now`."""
    return [item for item in aftercare_schedule(performed_at) if item.allowed_from > now]
