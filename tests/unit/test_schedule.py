"""The scheduler's decisions with a clock passed in: due runs, no overlap, missed runs coalesced."""
from datetime import datetime, timezone

from crawlers.schedule import Scheduler
from streams.config import VigilSettings


class FakeProcess:
    def __init__(self):
        self.alive, self.exitcode = True, None

    def is_alive(self):
        return self.alive

    def join(self, timeout=None):
        pass

    def terminate(self):
        self.alive, self.exitcode = False, -15


def at(hour: int, minute: int = 0) -> float:
    return datetime(2026, 11, 28, hour, minute, tzinfo=timezone.utc).timestamp()


def scheduler(tmp_path, now):
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n"
                       "- {id: hourly, start_urls: ['https://a.example/'], schedule: '0 * * * *'}\n"
                       "- {id: daily, start_urls: ['https://b.example/'], schedule: '0 6 * * *'}\n"
                       "- {id: often, start_urls: ['https://c.example/'], schedule: '*/10 * * * *'}\n")
    clock = {"now": now}
    s = Scheduler(VigilSettings(data_dir=tmp_path / "data"), sources, max_parallel=2, clock=lambda: clock["now"])
    started = []

    def start(source):
        started.append(source.id)
        s.running[source.id] = FakeProcess()
        s.history[source.id] = {"started": clock["now"]}
        s._save()

    s.start = start
    return s, clock, started


def test_first_run_crawls_everything_within_the_parallel_limit(tmp_path):
    s, clock, started = scheduler(tmp_path, at(9, 5))
    s.tick()
    assert started == ["daily", "hourly"]  # two at a time; "often" waits for a slot
    s.running["daily"].alive = False
    s.tick()
    assert started == ["daily", "hourly", "often"]


def test_no_overlap_and_missed_runs_coalesce(tmp_path):
    s, clock, started = scheduler(tmp_path, at(9, 5))
    s.tick()
    s.running["daily"].alive = False
    s.tick()  # often starts
    clock["now"] = at(11, 30)  # hourly still running since 9:05: the 10:00 and 11:00 runs were missed
    s.tick()
    assert started.count("hourly") == 1  # never two at once
    s.running["hourly"].alive = False
    s.running["often"].alive = False
    s.tick()
    assert started.count("hourly") == 2 and started.count("often") == 2  # made up once each, not twice
    assert started.count("daily") == 1  # 06:00 already covered by the 9:05 run


def test_history_survives_a_restart(tmp_path):
    s, clock, started = scheduler(tmp_path, at(9, 5))
    s.tick()
    for process in s.running.values():
        process.alive = False
    s.reap()
    again, _, started_again = scheduler(tmp_path, at(9, 8))
    again.tick()
    assert started_again == ["often"]  # not everything again: only what had not run (a slot was full)
