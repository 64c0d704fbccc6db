"""The built-in components: for each name, the module that defines it and what ``nasrank spaces``
and ``nasrank rankers`` show about it, so that the registries know every built-in without
importing it (importing a ranker or a network loads torch).

``nasrank.registry`` declares these entries; the module is imported the first
time its component is asked for. ``tests/test_registry.py`` checks every entry
against the class it names (module, summary = the first line of the class
docstring, and the listed attributes).
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

#: name -> (module, summary, attributes); attributes: size, size_is_estimate, canonical_classes,
#: supernet_provider (None: no one-shot supernet)
SPACES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "nb201": ("nasrank.spaces.nb201",
              "The NB201 cell space: 6 edges × 5 ops = 15,625 cells, 6,466 isomorphism classes.",
              {"size": 15625, "size_is_estimate": False, "canonical_classes": 6466,
               "supernet_provider": "nasrank.spaces.nb201_supernet:Nb201SupernetProvider"}),
    "nb101": ("nasrank.spaces.nb101",
              "The NB101 cell space: DAGs of at most 7 nodes and 9 edges, 3 ops,",
              {"size": 423624, "size_is_estimate": False, "canonical_classes": None,
               "supernet_provider": "nasrank.spaces.nb101_supernet:Nb101SupernetProvider"}),
    "darts": ("nasrank.spaces.darts",
              "The DARTS / NAS-Bench-301 space: (180·7⁸)² ≈ 1.08·10¹⁸ genotypes.",
              {"size": 1076746950455072400, "size_is_estimate": False, "canonical_classes": None,
               "supernet_provider": "nasrank.spaces.darts_supernet:DartsSupernetProvider"}),
    "nds_resnet": ("nasrank.spaces.nds",
                   "NDS ResNet (basic blocks): d ∈ {1,2,3,4,6,8,12,16,24}, w ∈ {16,...,256} (12",
                   {"size": 1259712, "size_is_estimate": False, "canonical_classes": None}),
    "nds_resnexta": ("nasrank.spaces.nds",
                     "NDS ResNeXt-A (bottleneck blocks): d ∈ {1,2,4,8,16}, w ∈ {16,32,64,128,256},",
                     {"size": 11390625, "size_is_estimate": False, "canonical_classes": None}),
}

_ZS = "nasrank.rankers.zero_shot"
_ZERO_COST = Path(__file__).resolve().parent / "rankers" / "zero_cost"


def zero_cost_measures() -> dict[str, tuple[str, str]]:
    """Every zero-cost measure: ``name -> (module, summary)``, found without importing anything.

    A measure is a module ``nasrank/rankers/zero_cost/<name>.py`` (a name not starting with
    ``_``); its summary is the first line of its docstring (the ranker it registers carries the
    same docstring). Adding a measure is adding that one file.
    """
    out: dict[str, tuple[str, str]] = {}
    for path in sorted(_ZERO_COST.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        out[path.stem] = (f"nasrank.rankers.zero_cost.{path.stem}", doc.strip().splitlines()[0] if doc else "")
    return out


#: name -> (module, summary, attributes); attributes: supported_spaces (None = every space), requires
#: (space capabilities, e.g. ("supernet",); absent = none)
RANKERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "az_nas": ("nasrank.rankers.ensemble",
               "AZ-NAS: Σ log rank of expressivity, progressivity, trainability and complexity (Lee & Ham 2024).",
               {"supported_spaces": None}),
    "cascade": ("nasrank.rankers.cascade",
                "``first`` filters (top ``keep_fraction`` of the stream), ``second`` scores the survivors.",
                {"supported_spaces": None}),
    "ensemble": ("nasrank.rankers.ensemble",
                 "Combine any rankers by their ranks among the candidates seen (mean rank or Σ log rank).",
                 {"supported_spaces": None}),
    "fear": ("nasrank.rankers.fear",
             "FEAR: train to a training-accuracy threshold, then train only the tail briefly.",
             {"supported_spaces": None}),
    "flops": ("nasrank.rankers.params_flops", "Score = forward FLOPs of one input (``torch.utils.flop_counter``).",
              {"supported_spaces": None}),
    "oneshot": ("nasrank.rankers.oneshot",
                "Rank cells by their sub-network's held-out loss or accuracy in a trained supernet.",
                {"supported_spaces": None, "requires": ("supernet",)}),
    "params": ("nasrank.rankers.params_flops",
               "Score = number of parameters of the built network (more is ranked higher).",
               {"supported_spaces": None}),
    "tabular": ("nasrank.rankers.tabular",
                "Score = the benchmark's ``metric`` accuracy after ``epochs``; cost = its recorded (else modelled) time.",
                {"supported_spaces": None}),
    "train": ("nasrank.rankers.training",
              "Regular training for ``epochs`` (cosine over ``schedule_epochs``, default ``epochs``), then a score.",
              {"supported_spaces": None}),
    "zero_shot": (_ZS, "Several zero-shot measures at once from shared passes; the score is ``primary``.",
                  {"supported_spaces": None}),
}

RANKERS.update({name: (module, summary, {"supported_spaces": None})
                for name, (module, summary) in zero_cost_measures().items()})
RANKERS = dict(sorted(RANKERS.items()))

#: name -> (module, summary, attributes)
SEARCHERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "random": ("nasrank.searchers.random_search",
               "Sample architectures uniformly (no repeats) in batches of ``batch_size``.", {}),
    "evolution": ("nasrank.searchers.evolution",
                  "Population of ``population_size``; each round a tournament of ``sample_size``", {}),
    "evolution_async": ("nasrank.searchers.async_evolution",
                        "Regularized evolution that proposes a child whenever a worker is free.", {}),
    "local": ("nasrank.searchers.local_search",
              "From a random start evaluate the neighbours and move to the best one", {}),
    "sh": ("nasrank.searchers.multifidelity",
           "Successive halving: ``n`` architectures at ``min_budget``, the best 1/``eta`` continue to the next rung.", {}),
    "hyperband": ("nasrank.searchers.multifidelity",
                  "Hyperband: cycle through successive-halving brackets that start at each rung (Li et al. 2017).", {}),
    "asha": ("nasrank.searchers.asha",
             "Asynchronous successive halving: promote as soon as an architecture is in its rung's top 1/``eta``.", {}),
}
