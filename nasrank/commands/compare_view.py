"""What ``nasrank compare --seeds`` shows in the terminal: live progress, the sweep's table, warnings."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from nasrank.evaluation.frontier import bound_symbol
from nasrank.experiments.sweep import Progress

TABLE_WIDTH = 80


class SweepProgress(Progress):
    """One task per ranker of the running seed and one for the whole sweep, reported through
    :class:`nasrank.runtime.progress.Progress` (bars with ETA on a terminal, timestamped lines elsewhere).

    Candidates read back from a resumed history shrink a task's total instead of
    advancing it, so the ETA only counts candidates actually being paid for.
    """

    def __init__(self, n_seeds: int, n_rankers: int, candidates: int, **progress: Any) -> None:
        from nasrank.runtime.progress import Progress as Helper

        self.bars = Helper(**progress)
        self.overall = n_seeds * n_rankers * candidates
        self.total = self.bars.add("all seeds", total=self.overall)
        self.tasks: dict[tuple[int, str], str] = {}
        self.totals: dict[tuple[int, str], int] = {}
        self.replayed: dict[tuple[int, str], int] = {}

    def start_seed(self, seed: int, labels: Sequence[str], candidates: int) -> None:
        for label in labels:
            self.tasks[seed, label] = self.bars.add(f"seed {seed} {label}", total=candidates)
            self.totals[seed, label] = candidates
            self.replayed[seed, label] = 0

    def record(self, seed: int, label: str, replayed: bool) -> None:
        task = self.tasks[seed, label]
        if replayed:
            self.replayed[seed, label] += 1
            self.totals[seed, label] -= 1
            self.overall -= 1
            self.bars.update(task, total=self.totals[seed, label], note=f"({self.replayed[seed, label]} resumed)")
            self.bars.update(self.total, total=self.overall)
        else:
            self.bars.update(task, advance=1)
            self.bars.update(self.total, advance=1)

    def finish_seed(self, seed: int) -> None:
        for (s, _), task in list(self.tasks.items()):
            if s == seed:
                self.bars.remove(task)
        self.bars.message(f"seed {seed} done")

    def stop(self) -> None:
        self.bars.stop()


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    a = abs(v)
    return f"{v:.2f}" if a < 10 else f"{v:.1f}" if a < 100 else f"{v:.0f}" if a < 10_000 else f"{v / 1000:.0f}k"


def _short(v: float) -> str:
    """Two significant figures or so, for interval ends."""
    a = abs(v)
    return f"{v:.2f}" if a < 1 else f"{v:.1f}" if a < 10 else f"{v:.0f}" if a < 1000 else f"{v / 1000:.0f}k"


def _ratio(r: Mapping[str, Any] | None, ci: bool = True) -> str:
    if r and r.get("na"):
        return "n/a"
    if not r or r.get("mean") is None:
        return "-"
    text = bound_symbol(r.get("extrapolated")) + _num(r["mean"])
    if ci and r.get("ci_low") is not None:
        text += f"\n({_short(r['ci_low'])}-{_short(r['ci_high'])})"
    return text


def sweep_rows(result: Mapping[str, Any]) -> list[list[str]]:
    """The table's rows: one per ranker."""
    rows = []
    family = set(result.get("family") or [])
    for label, a in result["aggregate"].items():
        m = (result.get("matched") or {}).get(label, {})
        fam = label in family
        rows.append([label, _num(a["cost_per_candidate"]["mean"]), _ratio(a.get("cost_ratio_vs_baseline")),
                     _num(a["spearman"]["mean"]),
                     "family" if fam else _ratio(m.get("cost_ratio_at_equal_spearman")),
                     "" if fam else _ratio(m.get("cost_ratio_at_equal_kendall"), ci=False),
                     "" if fam else _ratio(m.get("cost_ratio_at_equal_regret"), ci=False),
                     str(a["n_not_reached"]), str(a["n_rejected"])])
    return rows


def print_sweep(result: Mapping[str, Any], console=None) -> None:
    """The sweep's table (fits 80 columns), what its columns mean, then every warning."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    con = console or Console(width=max(TABLE_WIDTH, Console().width))
    seeds = result["seeds"]
    t = Table(title=f"nasrank compare: {len(seeds)} seed(s) x {result['candidates']} candidates", box=box.SIMPLE_HEAD,
              pad_edge=False, padding=(0, 1), collapse_padding=True)
    for name in ("ranker", "s/cand", "x base\n(CI)", "rho", "x@rho\n(CI)", "x@tau", "x@regr", "miss", "rej"):
        t.add_column(name, justify="left" if name == "ranker" else "right", no_wrap=True)
    for row in sweep_rows(result):
        t.add_row(*row)
    con.print(t)
    fam = ", ".join((result.get("frontier") or {}).get("members") or result.get("family") or [])
    notes = [f"s/cand: cost per candidate; x base: {result['baseline']}'s cost / this one's; rho: Spearman "
             "with the truth; miss/rej: candidates that missed the threshold / were rejected."]
    if result.get("family"):
        notes.append(f"x@rho, x@tau, x@regr: the cost of the family ({fam}) at this ranker's Spearman, Kendall, "
                     "winner's regret, / this ranker's cost (>= better than every member: a lower bound; <= "
                     "worse than the cheapest).")
    notes.append(f"means over seeds {seeds}; (CI) = 95% bootstrap over seeds and candidates.")
    na = sorted({r["na"] for m in (result.get("matched") or {}).values() for r in m.values()
                 if isinstance(r, Mapping) and r.get("na")})
    notes.extend(f"x@regr {n}." for n in na)
    for n in notes:
        con.print(n, highlight=False)
    for w in result.get("warnings", []):
        con.print(f"[bold red]WARNING[/bold red] {w}", highlight=False)
