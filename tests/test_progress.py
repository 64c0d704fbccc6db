"""The one progress helper (nasrank.runtime.progress): timestamped lines off a terminal at the
interval with an ETA, rich bars on a terminal, nothing when quiet; the verbs report through it."""
import io
import re
from datetime import datetime, timedelta

from nasrank.runtime.progress import Progress, duration, run_search


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return datetime(2026, 12, 7, 12, 0, 0) + timedelta(seconds=self.t - 1000.0)


STAMP = re.compile(r"^\[2026-12-07 12:(\d\d):(\d\d)\] ")


def _lines(stream: io.StringIO) -> list[str]:
    return [x for x in stream.getvalue().splitlines() if x]


def test_off_a_terminal_one_timestamped_line_per_interval_with_eta():
    clock, out = FakeClock(), io.StringIO()
    with Progress(stream=out, interval=10, clock=clock, now=clock.wall, tty=False) as p:
        p.add("train", total=100)
        for _ in range(35):  # one unit per second
            clock.t += 1
            p.update("train", advance=1)
    lines = _lines(out)
    assert len(lines) == 4, lines  # at 10, 20, 30 s, and the last line when it stops
    assert [STAMP.match(x).groups() for x in lines] == [("00", "10"), ("00", "20"), ("00", "30"), ("00", "35")]
    assert "train 10/100 (10%), elapsed 0:10, eta 1:30" in lines[0]
    assert "train 30/100 (30%), elapsed 0:30, eta 1:10" in lines[2]
    assert "train 35/100" in lines[3] and "eta 1:05" in lines[3]


def test_a_short_job_prints_nothing_and_several_tasks_share_a_line():
    clock, out = FakeClock(), io.StringIO()
    with Progress(stream=out, interval=30, clock=clock, now=clock.wall, tty=False) as p:
        p.add("a", total=4)
        clock.t += 5
        p.update("a", completed=4)
    assert out.getvalue() == ""  # under the interval: no line at all
    with Progress(stream=out, interval=30, clock=clock, now=clock.wall, tty=False) as p:
        p.add("fear", total=10)
        p.add("train", total=10, note="2 from store")
        clock.t += 31
        p.update("fear", advance=5)
    first = _lines(out)[0]
    assert "fear 5/10 (50%), elapsed 0:31, eta 0:31; train 0/10 (0%), elapsed 0:31, eta ?, 2 from store" in first


def test_quiet_prints_nothing_and_a_terminal_gets_bars():
    clock, out = FakeClock(), io.StringIO()
    with Progress(quiet=True, stream=out, interval=1, clock=clock, tty=False) as p:
        p.add("x", total=3)
        clock.t += 100
        p.update("x", advance=3)
        p.message("hello")
    assert out.getvalue() == ""
    with Progress(stream=out, interval=1, tty=True) as p:  # rich, writing to the stream given
        p.add("bars", total=3)
        p.update("bars", advance=2)
        assert p._bars is not None
        assert {t.description: t.completed for t in p._bars.tasks} == {"bars": 2}
    assert "bars" in out.getvalue() and "eta" in out.getvalue()


def test_duration_format():
    assert (duration(7), duration(725), duration(3723), duration(None)) == ("0:07", "12:05", "1:02:03", "?")


def test_a_search_reports_through_the_helper(monkeypatch, capsys):
    """run_search (what search and compare call) writes lines with the best score to stderr."""
    monkeypatch.setenv("NASRANK_PROGRESS_SECONDS", "0.000001")
    from nasrank.experiments.build import make_context, make_ranker, make_space
    from nasrank.registry import SEARCHERS
    from nasrank.runs.history import History
    from nasrank.searchers.base import Budget

    space = make_space("nb201", {})
    ctx = make_context(space, benchmark="embedded", dataset="cifar10", seed=0)
    s = SEARCHERS.create("random", space, make_ranker("tabular", space, ctx, {}), seed=0)
    seen = []
    h = run_search(s, Budget(queries=5), History(), quiet=False, on_record=seen.append)
    err = capsys.readouterr().err.splitlines()
    assert len(h) == 5 and len(seen) == 5
    assert err and all(re.match(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] search \d/5 ", x) for x in err), err
    assert "search 5/5 (100%)" in err[-1] and "best " in err[-1]
    s = SEARCHERS.create("random", space, make_ranker("tabular", space, ctx, {}), seed=0)
    run_search(s, Budget(queries=5), History(), quiet=True)
    assert capsys.readouterr().err == ""


def test_the_api_reports_progress_by_default_and_quiet_silences_it(monkeypatch, capsys, tmp_path):
    import nasrank
    from nasrank import EvaluateConfig, SearchConfig

    monkeypatch.setenv("NASRANK_PROGRESS_SECONDS", "0.000001")
    nasrank.search("nb201", SearchConfig(budget_queries=4), benchmark="embedded")
    err = capsys.readouterr().err
    assert re.search(r"^\[[\d\- :]+\] search 4/4 \(100%\), elapsed .*, eta 0:00, best ", err, re.M), err
    nasrank.search("nb201", SearchConfig(budget_queries=4), benchmark="embedded", quiet=True)
    assert capsys.readouterr().err == ""
    nasrank.evaluate("nb201", EvaluateConfig(["params"], sample=3, output=str(tmp_path / "ev"), plots=False),
                     benchmark="embedded")
    assert re.search(r"^\[[\d\- :]+\] params 3/3 \(100%\)", capsys.readouterr().err, re.M)


def test_compare_off_a_terminal_logs_timestamped_lines(monkeypatch, capsys, tmp_path):
    """The 16-minute compare that printed nothing to its log: now one line per interval, per ranker."""
    from nasrank.cli import main

    monkeypatch.setenv("NASRANK_PROGRESS_SECONDS", "0.000001")
    rc = main(["compare", "--space", "nb201", "--benchmark", "embedded", "--rankers", "tabular,params",
               "--candidates", "3", "--output", str(tmp_path / "cmp"), "--no-store"])
    err = capsys.readouterr().err
    assert rc == 0
    for label in ("tabular", "params"):
        assert re.search(rf"^\[[\d\- :]+\] {label} 3/3 \(100%\), elapsed [\d:]+, eta 0:00", err, re.M), err
