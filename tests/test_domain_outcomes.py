"""DOMAIN.md section 6: the measurement vocabulary and change against the baseline."""

import pytest

from domain.outcomes import GLOBAL_ASSESSMENT_RANGE, LUDWIG_STAGES, NORWOOD_STAGES, change_percent


def test_stages():
    assert NORWOOD_STAGES == ("1", "2", "2A", "3", "3A", "3V", "4", "4A", "5", "5A", "6", "7")
    assert LUDWIG_STAGES == ("I", "II", "III")
    assert GLOBAL_ASSESSMENT_RANGE == (-3, 3)


@pytest.mark.parametrize(
    ("baseline", "latest", "change"),
    [
        pytest.param(100, 191.4, 91.4, id="dhurat-microneedling"),
        pytest.param(100, 122.2, 22.2, id="dhurat-lotion-alone"),
        pytest.param(150, 100, -33.3, id="loss"),
        pytest.param(80, 80, 0.0, id="no-change"),
        pytest.param(3, 4, 33.3, id="rounded"),
        pytest.param(0, 12, None, id="zero-baseline"),
    ],
)
def test_change_percent(baseline, latest, change):
    assert change_percent(baseline, latest) == change
