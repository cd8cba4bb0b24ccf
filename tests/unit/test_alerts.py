"""Flag-rate spike detection (pure logic, a clock passed in)."""
from datetime import timedelta

from streams.alerts import FlagRateMonitor
from streams.config import AlertSettings
from tests.factories import BASE_TIME, classified, raw_document


def batch(source: str, n: int, flagged: int, start: int = 0):
    return [classified(raw_document(f"https://{source}/{start + i}", f"text {start + i}", source=source),
                       {"recruitment": 0.9 if i < flagged else 0.1, "propaganda": 0.1}) for i in range(n)]


def test_a_spike_over_the_baseline_raises_one_alert_per_window():
    monitor = FlagRateMonitor(AlertSettings(window_minutes=60, baseline_windows=3, min_flags=5, spike_factor=3))
    for hour in range(3):  # baseline: 2 of 100 flagged each hour
        assert monitor.observe(batch("forum", 100, 2, hour * 100), BASE_TIME + timedelta(hours=hour)) == []
    now = BASE_TIME + timedelta(hours=3, minutes=10)
    alerts = monitor.observe(batch("forum", 50, 20, 1000), now)
    kinds = {(a.kind, a.key) for a in alerts}
    assert kinds == {("source", "forum"), ("label", "recruitment")}
    alert = next(a for a in alerts if a.kind == "source")
    assert alert.flags == 20 and alert.documents == 50 and alert.baseline_rate == 0.02 and alert.ratio == 20.0
    assert "20 of 50 documents flagged" in alert.message and alert.window_start.endswith("15:00:00+00:00")
    # More flags in the same window: no second alert; the id is stable for that window.
    assert monitor.observe(batch("forum", 10, 10, 2000), now + timedelta(minutes=5)) == []


def test_steady_rates_and_small_counts_do_not_alert():
    monitor = FlagRateMonitor(AlertSettings(window_minutes=60, baseline_windows=3, min_flags=5, spike_factor=3))
    for hour in range(5):  # no history at first, then a steady 30%: no spike
        assert monitor.observe(batch("extremist.example", 100, 30, hour * 100), BASE_TIME + timedelta(hours=hour)) == []
    quiet = FlagRateMonitor(AlertSettings(min_flags=5))
    quiet.observe(batch("calm.example", 50, 0), BASE_TIME)
    assert quiet.observe(batch("calm.example", 10, 4, 50), BASE_TIME + timedelta(hours=1)) == []  # under min_flags
    alerts = quiet.observe(batch("calm.example", 10, 1, 60), BASE_TIME + timedelta(hours=1, minutes=1))
    assert {a.key for a in alerts} == {"calm.example", "recruitment"}
    assert "none flagged before" in alerts[0].message and alerts[0].ratio is None
