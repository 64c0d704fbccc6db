"""Zero-shot EPE-NAS: Σ_classes |Σ log(|corr(J_c)| + 1e-5)| of the per-class input Jacobians.

J = ∂(Σ output)/∂x per sample (the shared input-gradient pass, as jacob_cov); for each class c
of the batch, corr(J_c) is the correlation matrix of its samples' Jacobians and
s_c = Σ log(|corr| + k), k = 1e-5; the score is Σ_c |s_c| (Lopes et al. 2021, the authors'
code as NASLib ports it, ≤ 100 classes). A class with one sample in the batch gives
corr = 1 (NumPy's value for one row). Constant Jacobian rows (no input→output path) give NaN.
"""
from __future__ import annotations

import numpy as np

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


def epe_nas_from(jac: np.ndarray, labels: np.ndarray) -> Result:
    """The EPE-NAS score of per-sample Jacobians ``jac`` (N × D) with class ``labels`` (N)."""
    if not np.all(np.isfinite(jac)):
        return float("nan"), "non-finite input gradients"
    score = 0.0
    for c in np.unique(labels):
        rows = jac[labels == c]
        with np.errstate(all="ignore"):
            corr = np.corrcoef(rows) if rows.shape[0] > 1 else np.array(1.0)
        if not np.all(np.isfinite(corr)):
            return float("nan"), "constant Jacobian rows (the output does not depend on the input)"
        score += abs(float(np.sum(np.log(np.abs(corr) + 1e-5))))
    return score, None


class EpeNas(Measure):
    name = "epe_nas"
    passes = ("input_grad",)

    def compute(self, state: PassState) -> Result:
        j = state.jac.reshape(state.jac.shape[0], -1).detach().double().cpu().numpy()
        return epe_nas_from(j, state.y.detach().cpu().numpy())


MEASURE = EpeNas()
EpeNasRanker = measure_ranker(MEASURE, __name__, __doc__)
