"""Zero-shot jacob_cov: −Σ(log(v+k)+1/(v+k)) of the input-Jacobian correlation.

J = ∂(Σ output)/∂x per sample (the shared input-gradient pass), C = corrcoef(J), v its
eigenvalues, k = 1e-5 (Mellor et al. 2020 v1, as in zero-cost-nas). Constant Jacobian rows
(the output does not depend on the input) give NaN with the reason.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


def jacob_cov_from(jac: torch.Tensor) -> Result:
    """The jacob_cov score of per-sample input gradients ``jac`` (N × ...)."""
    j = jac.reshape(jac.shape[0], -1).detach().double().cpu().numpy()
    if not np.all(np.isfinite(j)):
        return float("nan"), "non-finite input gradients"
    with np.errstate(all="ignore"):
        corr = np.corrcoef(j)
    if not np.all(np.isfinite(corr)):
        return float("nan"), "constant Jacobian rows (the output does not depend on the input)"
    try:
        v = np.linalg.eigvalsh(corr)
    except np.linalg.LinAlgError as exc:
        return float("nan"), f"eigenvalues did not converge: {exc}"
    k = 1e-5
    with np.errstate(all="ignore"):
        s = float(-np.sum(np.log(v + k) + 1.0 / (v + k)))
    return s, (None if math.isfinite(s) else "eigenvalues of the Jacobian correlation below -1e-5")


class JacobCov(Measure):
    name = "jacob_cov"
    passes = ("input_grad",)

    def compute(self, state: PassState) -> Result:
        return jacob_cov_from(state.jac)


MEASURE = JacobCov()
JacobCovRanker = measure_ranker(MEASURE, __name__, __doc__)
