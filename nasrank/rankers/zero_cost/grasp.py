"""Zero-shot GraSP: Σ −W ⊙ (H g) by double backward.

g = ∂L/∂W taken with ``create_graph`` in the shared loss pass; H g is one more backward of
Σ g_detached · g (one forward; Wang et al. 2020). A network whose gradient does not depend
on its weights scores 0.
"""
from __future__ import annotations

import torch

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._common import sum_float
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


class Grasp(Measure):
    name = "grasp"
    passes = ("hessian",)

    def compute(self, state: PassState) -> Result:
        live = [(w, g, gf) for w, g, gf in zip(state.weights, state.grads, state.raw_grads)
                if gf is not None and gf.requires_grad]
        z = sum((g * gf).sum() for _, g, gf in live) if live else None
        if z is None or not z.requires_grad:
            return 0.0, None
        hg = torch.autograd.grad(z, [w for w, _, _ in live], allow_unused=True, retain_graph=True)
        return sum_float([(-w.detach() * h).sum() for (w, _, _), h in zip(live, hg) if h is not None]), None


MEASURE = Grasp()
GraspRanker = measure_ranker(MEASURE, __name__, __doc__)
