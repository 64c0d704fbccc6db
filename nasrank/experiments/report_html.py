"""``nasrank report --html``: the merged runs (or one seed sweep) as one self-contained page,
``report.html``: the summary table, the seeds with their CIs, every figure (SVG inline), each
input's resolved configuration and its provenance."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from nasrank.evaluation.html_report import Section, esc, figure, page, pre, table

#: (row key, header) of the summary table
SUMMARY = (("run", "run"), ("kind", "kind"), ("ranker", "ranker"), ("seed", "seed"), ("n_evaluations", "n"),
           ("total_cost_seconds", "cost (s)"), ("best_true_acc", "best true acc"),
           ("true_rank_of_best", "true rank"), ("spearman", "Spearman"), ("kendall", "Kendall"), ("scale", "scale"))
#: (aggregate key, header) of a sweep's per-ranker table: mean [95% CI]
SWEEP = (("spearman", "Spearman"), ("kendall", "Kendall"), ("regret", "regret"),
         ("cost_per_candidate", "cost / candidate (s)"), ("cost_ratio_vs_baseline", "x baseline"))
#: the figures of each kind of output folder, in page order (a sweep's per-seed figures follow)
FIGURE_STEMS = ("frontier", "regret_vs_cost", "cost_vs_accuracy", "trajectory", "scatter", "criteria",
                "bias_complexity", "bias_ops", "variance")
OUTPUT_JSON = ("summary.json", "compare.json", "report.json")


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _ci(iv: Any) -> str:
    """``0.812 [0.70, 0.90]`` of a ``{mean, ci_low, ci_high}`` interval."""
    if not isinstance(iv, Mapping) or iv.get("mean") is None:
        return "n/a" if isinstance(iv, Mapping) and iv.get("na") else "-"
    ci = f" [{iv['ci_low']:.3g}, {iv['ci_high']:.3g}]" if iv.get("ci_low") is not None else ""
    return f"{iv['mean']:.3g}{ci}"


def _pm(g: Mapping[str, Any], key: str) -> str:
    m, h = g.get(f"{key}_mean"), g.get(f"{key}_ci95")
    return "-" if m is None else f"{m:.4g}" + ("" if h is None else f" ± {h:.2g}") + f" (n={g.get(f'{key}_n')})"


def seeds_section(groups: Sequence[Mapping[str, Any]], inputs: Sequence[str]) -> Section:
    """Seed groups (mean ± 95% t CI over the runs) and each sweep's bootstrap CIs with its per-seed values."""
    s = Section("Seeds and confidence intervals")
    if groups:
        rows = [{"group": g["group"], "runs": g["n_runs"], "seeds": ", ".join(map(str, g.get("seeds") or [])),
                 **{k: _pm(g, k) for k in ("best_true_acc", "true_rank_of_best", "total_cost_seconds", "spearman")}}
                for g in groups]
        s.body.append("<h3>Runs that differ only in their seed (mean ± 95% CI, t over the runs)</h3>")
        s.body.append(table(rows, ["group", "runs", "seeds", "best_true_acc", "true_rank_of_best",
                                   "total_cost_seconds", "spearman"],
                            ["group", "runs", "seeds", "best true acc", "true rank", "cost (s)", "Spearman"],
                            ("group", "seeds")))
    for folder in inputs:
        data = _json(Path(folder) / "compare.json")
        if data.get("kind") != "seed_sweep":
            continue
        agg = data.get("aggregate") or {}
        rows = [{"ranker": label, **{k: _ci(a.get(k)) for k, _ in SWEEP},
                 **{f"seed {sd}": esc((a.get("per_seed") or {}).get(str(sd), {}).get("spearman"))
                    for sd in data.get("seeds", [])}} for label, a in agg.items()]
        seed_cols = [f"seed {sd}" for sd in data.get("seeds", [])]
        s.body.append(f"<h3>Seed sweep {esc(folder)}: seeds {esc(data.get('seeds'))}, "
                      f"{esc(data.get('candidates'))} candidates each (mean [95% CI])</h3>")
        s.body.append(table(rows, ["ranker", *[k for k, _ in SWEEP], *seed_cols],
                            ["ranker", *[h for _, h in SWEEP], *[f"Spearman, {c}" for c in seed_cols]], ("ranker",)))
        method = (data.get("bootstrap") or {}).get("method")
        if method:
            s.body.append(f'<p class="note">CI: {esc(method)}</p>')
        s.body.extend(f'<p class="note">warning: {esc(w)}</p>' for w in data.get("warnings") or [])
    if len(s.body) == 0:
        s.body.append('<p class="note">every run has its own seed configuration: no seed group, no sweep</p>')
    return s


def _figure_paths(folder: Path) -> list[Path]:
    """The figures in ``folder`` (and, for a sweep, each ``seed<S>/``), as paths without a suffix."""
    subs = [folder] + sorted((d for d in folder.iterdir() if d.is_dir() and re.fullmatch(r"seed\d+", d.name)),
                             key=lambda d: int(d.name[4:]))
    return [d / stem for d in subs for stem in FIGURE_STEMS
            if (d / f"{stem}.svg").is_file() or (d / f"{stem}.png").is_file()]


def _sweep_svgs(folder: Path, out_dir: Path, index: int) -> dict[str, Path]:
    """A sweep's frontier and regret figures drawn again as SVG from its compare.json into ``out_dir``
    (its own files may be PNG only); ``{stem: path without suffix}``, empty for no sweep or no family."""
    from nasrank.evaluation.frontier_plots import plot_sweep

    data = _json(folder / "compare.json")
    if data.get("kind") != "seed_sweep" or not data.get("family"):
        return {}
    out = {}
    for stem, metric in (("frontier", "spearman"), ("regret_vs_cost", "regret")):
        path = out_dir / f"input{index}_{stem}"
        plot_sweep(data, path.with_suffix(".svg"), metric)
        out[stem] = path
    return out


def figures_section(report_figures: Sequence[Path], inputs: Sequence[str], out_dir: Path) -> Section:
    """The report's own figures, then every input's (a sweep's drawn again as SVG; other PNG-only
    figures embedded as data URIs)."""
    s = Section("Figures")
    n = 0
    for path in dict.fromkeys(p.with_suffix("") for p in report_figures):
        n += 1
        s.body.append(figure(path, f"f{n}-", f"report: {path.name}"))
    for i, folder in enumerate(inputs):
        redrawn = _sweep_svgs(Path(folder), out_dir, i)
        for path in _figure_paths(Path(folder)):
            n += 1
            shown = redrawn.get(path.name, path) if path.parent == Path(folder) else path
            s.body.append(figure(shown, f"f{n}-", f"{Path(folder).name}/{path.relative_to(folder)}"))
    if n == 0:
        s.body.append('<p class="note">no figure: no run has a true accuracy</p>')
    return s


def config_section(inputs: Sequence[str]) -> Section:
    """Each input's config.yaml, and the resolved options of each of its rankers."""
    s = Section("Configuration")
    for folder in inputs:
        d = Path(folder)
        s.body.append(f"<h3>{esc(folder)}</h3>")
        cfg = d / "config.yaml"
        s.body.append(pre(cfg.read_text(encoding="utf-8")) if cfg.is_file() else '<p class="note">no config.yaml</p>')
        resolved = {}
        for path in [d / n for n in OUTPUT_JSON] + sorted(d.glob("seed*/compare.json"))[:1]:
            data = _json(path)
            rankers = data.get("rankers")
            if isinstance(rankers, dict):
                resolved.update({k: v.get("config") for k, v in rankers.items() if isinstance(v, dict) and "config" in v})
            if data.get("ranker_options") is not None:
                resolved[str(data.get("ranker"))] = data["ranker_options"]
        if resolved:
            s.body.append("<p>resolved ranker options:</p>" + pre(json.dumps(resolved, indent=2, default=str)))
    return s


def provenance_section(inputs: Sequence[str]) -> Section:
    """Each input's provenance block (versions, git, machine, device, command, date)."""
    s = Section("Provenance")
    for folder in inputs:
        d = Path(folder)
        found = [p for p in [d / n for n in OUTPUT_JSON] + sorted(d.glob("seed*/compare.json")) if p.is_file()]
        prov = next((_json(p)["provenance"] for p in found if isinstance(_json(p).get("provenance"), dict)), None)
        s.body.append(f"<h3>{esc(folder)}</h3>")
        if prov is None:
            s.body.append('<p class="note">no provenance recorded</p>')
            continue
        rows = [{"field": k, "value": json.dumps(v, default=str) if isinstance(v, (dict, list)) else v}
                for k, v in prov.items()]
        s.body.append(table(rows, ["field", "value"], text_columns=("field", "value")))
    return s


def write_html(out_dir: str | Path, rows: Sequence[Mapping[str, Any]], groups: Sequence[Mapping[str, Any]],
               inputs: Sequence[str], report_figures: Sequence[Path], title: str | None = None) -> Path:
    """Write ``out_dir/report.html`` (atomically) and return its path."""
    from nasrank.runs.atomic import atomic_write_text
    from nasrank.runs.provenance import provenance

    summary = Section("Summary", [table(rows, [k for k, _ in SUMMARY], [h for _, h in SUMMARY],
                                        ("run", "kind", "ranker", "scale"))])
    sections = [summary, seeds_section(groups, inputs), figures_section(report_figures, inputs, Path(out_dir)),
                config_section(inputs), provenance_section(inputs)]
    made = provenance()
    doc = page(title or f"nasrank report: {len(rows)} runs", sections,
               subtitle=f"inputs: {', '.join(inputs)} · made {made.get('date')} · nasrank report --html")
    path = Path(out_dir) / "report.html"
    atomic_write_text(path, doc, what="HTML report")
    return path
