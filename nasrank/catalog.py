"""The built-in components: for each name, the module that defines it and what ``nasrank spaces``
and ``nasrank rankers`` show about it, so that the registries know every built-in without
importing it (importing a ranker or a network loads torch).

``nasrank.registry`` declares these entries; the module is imported the first
time its component is asked for. ``tests/test_registry.py`` checks every entry
against the class it names (module, summary = the first line of the class
docstring, and the listed attributes).
"""
from __future__ import annotations

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
#: name -> (module, summary, attributes); attributes: supported_spaces (None = every space), requires
#: (space capabilities, e.g. ("supernet",); absent = none)
RANKERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "cascade": ("nasrank.rankers.cascade",
                "``first`` filters (top ``keep_fraction`` of the stream), ``second`` scores the survivors.",
                {"supported_spaces": None}),
    "fear": ("nasrank.rankers.fear",
             "FEAR: train to a training-accuracy threshold, then train only the tail briefly.",
             {"supported_spaces": None}),
    "fisher": (_ZS, "Zero-shot Fisher: Σ per channel 0.5·mean_batch(Σ_space a·∂L/∂a)² × fan-in.",
               {"supported_spaces": None}),
    "flops": ("nasrank.rankers.params_flops", "Score = forward FLOPs of one input (``torch.utils.flop_counter``).",
              {"supported_spaces": None}),
    "grad_norm": (_ZS, "Zero-shot: Σ_layers ‖∂L/∂W‖₂ at initialisation.", {"supported_spaces": None}),
    "grasp": (_ZS, "Zero-shot GraSP: Σ −W ⊙ (H g) by double backward.", {"supported_spaces": None}),
    "jacob_cov": (_ZS, "Zero-shot jacob_cov: −Σ(log(v+k)+1/(v+k)) of the input-Jacobian correlation.",
                  {"supported_spaces": None}),
    "oneshot": ("nasrank.rankers.oneshot",
                "Rank cells by their sub-network's held-out loss or accuracy in a trained supernet.",
                {"supported_spaces": None, "requires": ("supernet",)}),
    "params": ("nasrank.rankers.params_flops",
               "Score = number of parameters of the built network (more is ranked higher).",
               {"supported_spaces": None}),
    "plain": (_ZS, "Zero-shot plain: Σ W ⊙ ∂L/∂W.", {"supported_spaces": None}),
    "recorded": ("nasrank.rankers.recorded",
                 "Serve a pool ranker's recorded score and cost (``--benchmark pool:DIR``; see the module docstring).",
                 {"supported_spaces": None}),
    "relu_logdet": (_ZS, "Zero-shot NASWOT: logdet of the ReLU-code kernel.", {"supported_spaces": None}),
    "snip": (_ZS, "Zero-shot SNIP: Σ |W ⊙ ∂L/∂W|.", {"supported_spaces": None}),
    "synflow": (_ZS, "Zero-shot SynFlow (data-free, float64, |W|, BN removed).", {"supported_spaces": None}),
    "tabular": ("nasrank.rankers.tabular",
                "Score = the benchmark's ``metric`` accuracy after ``epochs``; cost = its recorded (else modelled) time.",
                {"supported_spaces": None}),
    "train": ("nasrank.rankers.training",
              "Regular training for ``epochs`` (cosine over ``schedule_epochs``, default ``epochs``), then a score.",
              {"supported_spaces": None}),
    "zero_shot": (_ZS, "Several zero-shot measures at once from shared passes; the score is ``primary``.",
                  {"supported_spaces": None}),
}

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
