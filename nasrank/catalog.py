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
    "pool": ("nasrank.spaces.pool_space",
             "The cells of a scored pool, searched with the base space's networks and keys.",
             {"size": None, "size_is_estimate": False, "canonical_classes": None}),
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
    "recorded": ("nasrank.rankers.recorded",
                 "Serve a pool ranker's recorded score and cost (``--benchmark pool:DIR``; see the module docstring).",
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

#: name -> (the architecture string's format, its ops (or per-stage choices), an example string) of each
#: built-in space, for ``nasrank spaces NAME``; tests/test_registry.py checks them against the classes
SPACE_FORMATS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "nb201": ("|op~0|+|op~0|op~1|+|op~0|op~1|op~2|: the op on each of the cell's 6 edges; node j's "
              "group lists its inputs from nodes 0..j-1",
              ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"),
              "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"),
    "nb101": ("MATRIX|OPS: the upper-triangular adjacency matrix as 49 bits, row-major (bit i*7+j: an edge "
              "from node i to node j), then the node labels, comma-separated, from input to output",
              ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"),
              "0110000001111100011100000110000001000000000000000|input,conv1x1-bn-relu,maxpool3x3,"
              "conv1x1-bn-relu,conv1x1-bn-relu,maxpool3x3,output"),
    "darts": ("Genotype(normal=[(op, input), ...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, "
              "4, 5]): 8 (op, input node) pairs per cell, two per intermediate node; nodes 0 and 1 are the two "
              "previous cells' outputs",
              ("max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3",
               "dil_conv_5x5"),
              "Genotype(normal=[('sep_conv_3x3', 0), ('avg_pool_3x3', 1), ('max_pool_3x3', 0), ('avg_pool_3x3', 2), "
              "('sep_conv_3x3', 2), ('sep_conv_5x5', 3), ('sep_conv_3x3', 3), ('sep_conv_3x3', 4)], "
              "normal_concat=[2, 3, 4, 5], reduce=[('dil_conv_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_3x3', 0), "
              "('max_pool_3x3', 1), ('avg_pool_3x3', 2), ('max_pool_3x3', 3), ('max_pool_3x3', 0), "
              "('skip_connect', 3)], reduce_concat=[2, 3, 4, 5])"),
    "nds_resnet": ("ds=D1,D2,D3|ws=W1,W2,W3: the depth (blocks) and width of each of the 3 stages (basic blocks)",
                   ("ds: 1, 2, 3, 4, 6, 8, 12, 16, 24", "ws: 16, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256"),
                   "ds=16,8,6|ws=40,40,16"),
    "nds_resnexta": ("ds=D1,D2,D3|ws=W1,W2,W3|bs=B1,B2,B3|gs=G1,G2,G3: depth, width, bottleneck ratio and groups "
                     "of each of the 3 stages (bottleneck blocks)",
                     ("ds: 1, 2, 4, 8, 16", "ws: 16, 32, 64, 128, 256", "bs: 0.25, 0.5, 1.0", "gs: 1, 2, 4"),
                     "ds=16,8,4|ws=32,32,16|bs=0.25,0.25,0.25|gs=4,2,4"),
}
