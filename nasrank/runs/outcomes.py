"""What happened to one candidate: an :class:`Evaluation`'s ``status``, and the counts every report shows.

``status`` is one of :data:`STATUSES`:

* ``ok``: scored;
* ``not_reached``: a threshold ranker (FEAR) stopped stage 1 without reaching its threshold (the score
  is its fallback, below every reached one);
* ``rejected``: early-rejected by a threshold ranker (stage 1 ran too long);
* ``filtered``: dropped by a cascade's cheap stage (never trained);
* ``invalid``: the score is NaN/inf.

:func:`outcome_counts` is the one reader of statuses for reports (compare's summary and table, the seed
sweep's tables and warnings). Histories and store entries written before ``status`` existed carry
only ``info`` flags: :func:`infer_status` reads them, once, when such a record is loaded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

STATUSES = ("ok", "not_reached", "rejected", "filtered", "invalid")


def check_status(status: Any) -> str:
    """``status`` if it is one of :data:`STATUSES`, else :class:`ValueError`."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    return status


def _finite(score: Any) -> bool:
    return isinstance(score, (int, float)) and not isinstance(score, bool) and math.isfinite(score)


def infer_status(score: Any, info: Mapping[str, Any] | None) -> str:
    """The status of a record written before records carried one (from its ``info`` flags)."""
    info = info or {}
    second = info.get("second") if isinstance(info.get("second"), Mapping) else {}
    if info.get("filtered"):
        return "filtered"
    if info.get("rejected") or second.get("rejected"):
        return "rejected"
    if info.get("reached") is False or second.get("reached") is False:
        return "not_reached"
    return "ok" if _finite(score) else "invalid"


def status_of(record: Any) -> str:
    """The status of an :class:`Evaluation`, a history record or a history record's JSON dict."""
    if isinstance(record, Mapping):
        status = record.get("status")
        return status if status in STATUSES else infer_status(record.get("score"), record.get("info"))
    status = getattr(record, "status", None)
    return status if status in STATUSES else infer_status(getattr(record, "score", None), getattr(record, "info", {}))


def _score(record: Any) -> Any:
    return record.get("score") if isinstance(record, Mapping) else getattr(record, "score", None)


@dataclass(frozen=True)
class Outcomes:
    """How many candidates ended in each status (``invalid`` counts every non-finite score)."""

    n: int = 0
    not_reached: int = 0
    rejected: int = 0
    filtered: int = 0
    invalid: int = 0

    @property
    def missed(self) -> int:
        """Candidates that missed a threshold (not reached, or rejected)."""
        return self.not_reached + self.rejected

    @property
    def trained(self) -> int:
        """Candidates the (last stage of the) ranker trained: all but the filtered ones."""
        return self.n - self.filtered

    def missed_fraction(self) -> float:
        """``missed / trained`` (0 when nothing was trained)."""
        return self.missed / self.trained if self.trained else 0.0

    def as_counts(self) -> dict[str, int]:
        """The ``n_*`` fields of compare's and the sweep's JSON."""
        return {"n_not_reached": self.not_reached, "n_rejected": self.rejected, "n_filtered": self.filtered,
                "n_invalid": self.invalid}

    @classmethod
    def from_counts(cls, summary: Mapping[str, Any]) -> "Outcomes":
        """Back from a summary's ``n_evaluations`` and ``n_*`` fields (absent counts are 0)."""
        return cls(int(summary.get("n_evaluations", 0)), int(summary.get("n_not_reached", 0)),
                   int(summary.get("n_rejected", 0)), int(summary.get("n_filtered", 0)),
                   int(summary.get("n_invalid", 0)))


def outcome_counts(records: Iterable[Any]) -> Outcomes:
    """Count the statuses of ``records`` (evaluations, history records or their JSON dicts)."""
    counts = dict.fromkeys(STATUSES, 0)
    n = invalid = 0
    for r in records:
        status = status_of(r)
        counts[status] += 1
        n += 1
        invalid += status == "invalid" or not _finite(_score(r))
    return Outcomes(n, counts["not_reached"], counts["rejected"], counts["filtered"], invalid)
