"""What ``--help`` shows besides the flags: docstrings as plain text (no reST markup) and a few
examples per command, each one a command line that runs as written from the repository root
(``tests/test_help.py`` parses every one)."""
from __future__ import annotations

import re

#: command words -> example command lines (shown under "examples:" in that command's --help)
EXAMPLES: dict[tuple[str, ...], tuple[str, ...]] = {
    (): ("nasrank spaces nb201                 # what an nb201 architecture string looks like",
         "nasrank search --space nb201 --searcher evolution --ranker tabular --benchmark embedded "
         "--budget-queries 300 --output runs/re --plot",
         "nasrank data check ../shared/data    # which official data files a folder holds"),
    ("search",): (
        "nasrank search --space nb201 --searcher evolution --ranker tabular --benchmark embedded "
        "--budget-queries 300 --seed 0 --output runs/re --plot",
        "nasrank search --resume runs/re --budget-queries 600      # continue or extend a run",
        "nasrank search --space nb201 --searcher random --ranker synflow --benchmark embedded "
        "--budget-queries 50 --channels 8 --cells-per-stage 1 --output runs/zs"),
    ("evaluate",): (
        "nasrank evaluate --space nb201 --benchmark embedded --rankers params,flops,synflow --sample 50 "
        "--channels 8 --cells-per-stage 1 --output runs/ev",
        "nasrank evaluate --space nb201 --benchmark csv:../shared/data/nb201/nb201_cifar10.csv "
        "--rankers jacob_cov,relu_logdet --sample 20 --channels 8 --cells-per-stage 1 --data-dir ../shared/data/cifar10 "
        "--output runs/ev2"),
    ("compare",): (
        "nasrank compare --space nb201 --benchmark embedded --rankers params,synflow,tabular --candidates 50 "
        "--output runs/cmp",
        "nasrank compare --space nb201 --benchmark csv:../shared/data/nb201/nb201_cifar10.csv "
        "--data-dir ../shared/data/cifar10 --rankers fear,train5=train,train10=train "
        "--ranker-cfg fear.threshold=0.3,train5.epochs=5,train10.epochs=10 --frontier train --seeds 0-2 "
        "--candidates 10 --channels 8 --cells-per-stage 1 --image-size 16 --output runs/sweep"),
    ("supernet", "train"): (
        "nasrank supernet train --space nb201 --sampling deiso --epochs 50 --channels 8 --cells-per-stage 1 "
        "--image-size 16 --data-dir ../shared/data/cifar10 --output runs/supernet.ckpt",),
    ("supernet", "info"): ("nasrank supernet info benchmarks/results/oneshot_nb201_supernet.pt",),
    ("analyze",): ("nasrank analyze --scores runs/ev/scores.csv --benchmark embedded --output runs/an",),
    ("report",): ("nasrank report runs/re runs/cmp --output runs/report --format png,pdf",),
    ("store",): ("nasrank store ls", "nasrank store export --output store.csv",
                 "nasrank store prune --older-than 30 --all"),
    ("spaces",): ("nasrank spaces", "nasrank spaces nb201"),
    ("rankers",): ("nasrank rankers", "nasrank rankers fear            # its options (--ranker-cfg KEY=VALUE)"),
    ("data",): ("nasrank data", "nasrank data check ../shared/data", "nasrank data download cifar10 data"),
    ("data", "sources"): ("nasrank data sources nats_tss", "nasrank data sources --json"),
    ("data", "check"): ("nasrank data check ../shared/data", "nasrank data check data --only cifar10 --only cifar100"),
    ("data", "download"): ("nasrank data download cifar10 data          # then: --data-dir data",
                           "nasrank data download cifar100 data --remove-archive"),
}

_ROLE = re.compile(r":(?:mod|func|class|meth|attr|data|obj|exc|ref|doc):`~?([^`]+)`")


def plain(text: str | None) -> str:
    """``text`` without reST markup: ``x`` and :mod:`a.b` become x and a.b (:func:`~a.b` becomes b)."""
    if not text:
        return text or ""

    def role(m: re.Match) -> str:
        name = m.group(1)
        return name.rsplit(".", 1)[-1] if m.group(0).split("`")[1].startswith("~") else name

    out = _ROLE.sub(role, text)
    out = re.sub(r"``([^`]+)``", r"\1", out)
    return re.sub(r"`([^`<]+?) <([^>]+)>`_", r"\1 (\2)", out)


def epilog(words: tuple[str, ...]) -> str | None:
    """The "examples:" block of command ``words``, or None."""
    lines = EXAMPLES.get(words)
    return "examples:\n" + "\n".join(f"  {x}" for x in lines) if lines else None


def searcher_help() -> str:
    """The ``--searcher`` help: every built-in searcher (from the catalog, nothing imported)."""
    from nasrank.catalog import SEARCHERS

    return f"{' | '.join(sorted(SEARCHERS))} | pkg.module:Class (nasrank rankers describes each)"
