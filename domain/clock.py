"""Times a phone reports: a session or a photo cannot be in the future, give or take a clock."""

from datetime import datetime, timedelta

# [product decision] A phone clock a little ahead of the server's is not a time "in the future".
CLOCK_SKEW = timedelta(minutes=5)


def in_the_future(moment: datetime, now: datetime) -> bool:
    """Whether `moment` is later than `now`, beyond what a phone clock may be ahead."""
    return moment > now + CLOCK_SKEW
