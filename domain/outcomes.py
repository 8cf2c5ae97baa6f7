"""The measurement vocabulary (DOMAIN.md section 6) and progress against the baseline."""

# Norwood-Hamilton scale for male pattern hair loss.
NORWOOD_STAGES = ("1", "2", "2A", "3", "3A", "3V", "4", "4A", "5", "5A", "6", "7")
# Ludwig scale for female pattern hair loss.
LUDWIG_STAGES = ("I", "II", "III")
# The 7-point global photographic assessment.
GLOBAL_ASSESSMENT_RANGE = (-3, 3)


def change_percent(baseline: float, latest: float) -> float | None:
    """The change from the baseline in percent, to one decimal; None for a zero baseline."""
    if baseline == 0:
        return None
    return round((latest - baseline) / baseline * 100, 1)
