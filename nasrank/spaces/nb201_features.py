"""Fast structural features of NB201 cells, for bias analysis (``Nb201Space.features``).

Everything here is computed from the six ops, without building a network:

* ``params`` and ``flops``: parameters, and forward FLOPs of one 32×32 image
  as ``torch.utils.flop_counter`` counts them, of the network at the space's
  scale: the same numbers as the ``params`` and ``flops`` rankers. Both depend
  only on the number of 3×3 and 1×1 convolutions (every other op is free of
  parameters and of counted FLOPs), so a closed form
  (:func:`complexity_coefficients`) gives them. At the benchmark's scale
  (C=16, N=5, 10 classes) ``params / 1e6`` equals
  ``Nb201Space.official_params_m(arch)``. The tests check both against the
  counters on real networks.
* ``n_<op>`` for each of the five ops: how many of the six edges carry it
  (dead edges included, as the network builds them).

Path features. A *path* is one of the four input→output routes of the cell
(0→3, 0→1→3, 0→2→3, 0→1→2→3) whose edges all carry a non-``none`` op; a
*convolution* is ``nor_conv_1x1`` or ``nor_conv_3x3``.

* ``n_paths``: number of paths (0: the cell outputs zeros);
* ``n_param_free_paths``: paths made only of ``skip_connect`` / ``avg_pool_3x3``;
* ``n_conv_paths``: paths with at least one convolution;
* ``has_conv_path``: 1 if some path carries a convolution, else 0;
* ``longest_conv_path``: the most convolutions on one path (0 without paths);
* ``shortest_conv_path``: the fewest convolutions on one path (0 when a
  parameter-free path exists, and 0 without paths);
* ``depth``: the most edges on one path (0 without paths);
* ``n_live_conv``: convolutions on edges that lie on a path;
* ``n_dead_ops``: non-``none`` edges that lie on no path (they do nothing).
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from nasrank.spaces.nb201_ops import OPS

if TYPE_CHECKING:  # pragma: no cover
    from nasrank.spaces.nb201 import Nb201Arch

CONVS = frozenset({"nor_conv_1x1", "nor_conv_3x3"})
PARAM_FREE = frozenset({"skip_connect", "avg_pool_3x3"})
#: the four input→output routes, as indices into the official edge order
#: (1←0, 2←0, 2←1, 3←0, 3←1, 3←2)
PATHS: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))
#: structural (non-count) feature names, in output order
STRUCTURAL = ("n_paths", "n_param_free_paths", "n_conv_paths", "has_conv_path", "longest_conv_path",
              "shortest_conv_path", "depth", "n_live_conv", "n_dead_ops")


def complexity_coefficients(channels: int = 16, cells_per_stage: int = 5, num_classes: int = 10,
                            image_size: int = 32) -> dict[str, tuple[float, float]]:
    """``{"params": (base, per_conv3x3, per_conv1x1), "flops": (...)}`` of the NB201 network.

    Closed form of :class:`~nasrank.spaces.nb201_ops.Nb201Network`: the stem
    (Conv3×3 + BN), two residual reductions, the final BN and the linear head
    make the base; each 3×3 (1×1) edge adds one ReLU-Conv-BN per cell. FLOPs
    count a multiply-add as 2 and only convolutions and the linear layer, as
    ``torch.utils.flop_counter`` does (BN, pooling, sums are not counted).
    """
    c, n, k = channels, cells_per_stage, num_classes
    widths = (c, 2 * c, 4 * c)
    areas = (image_size ** 2, (image_size // 2) ** 2, (image_size // 4) ** 2)
    p_base = 27 * c + 2 * c + 2 * widths[2] + widths[2] * k + k
    f_base = 2 * 27 * c * areas[0] + 2 * widths[2] * k
    for cin, cout, hw in ((widths[0], widths[1], areas[1]), (widths[1], widths[2], areas[2])):
        p_base += 9 * cin * cout + 2 * cout + 9 * cout * cout + 2 * cout + cin * cout
        f_base += 2 * hw * (9 * cin * cout + 9 * cout * cout + cin * cout)
    p3 = n * sum(9 * w * w + 2 * w for w in widths)
    p1 = n * sum(w * w + 2 * w for w in widths)
    f3 = n * sum(2 * 9 * w * w * a for w, a in zip(widths, areas))
    f1 = n * sum(2 * w * w * a for w, a in zip(widths, areas))
    return {"params": (float(p_base), float(p3), float(p1)), "flops": (float(f_base), float(f3), float(f1))}


_coefficients = lru_cache(maxsize=None)(complexity_coefficients)


def complexity(arch: "Nb201Arch", channels: int = 16, cells_per_stage: int = 5,
               num_classes: int = 10) -> tuple[float, float]:
    """``(params, flops)`` of ``arch``'s network at the given scale (closed form, no network built)."""
    n3, n1 = arch.count("nor_conv_3x3"), arch.count("nor_conv_1x1")
    coef = _coefficients(channels, cells_per_stage, num_classes)
    (pb, p3, p1), (fb, f3, f1) = coef["params"], coef["flops"]
    return pb + p3 * n3 + p1 * n1, fb + f3 * n3 + f1 * n1


@lru_cache(maxsize=None)
def structural_features(ops: tuple[str, ...]) -> dict[str, float]:
    """Op counts and path features of one cell given by its six ops (official edge order)."""
    out: dict[str, float] = {f"n_{op}": float(sum(o == op for o in ops)) for op in OPS}
    paths = [p for p in PATHS if all(ops[e] != "none" for e in p)]
    convs = [sum(ops[e] in CONVS for e in p) for p in paths]
    live = {e for p in paths for e in p}
    out["n_paths"] = float(len(paths))
    out["n_param_free_paths"] = float(sum(c == 0 for c in convs))
    out["n_conv_paths"] = float(sum(c > 0 for c in convs))
    out["has_conv_path"] = float(any(c > 0 for c in convs))
    out["longest_conv_path"] = float(max(convs, default=0))
    out["shortest_conv_path"] = float(min(convs, default=0))
    out["depth"] = float(max((len(p) for p in paths), default=0))
    out["n_live_conv"] = float(sum(ops[e] in CONVS for e in live))
    out["n_dead_ops"] = float(sum(ops[e] != "none" and e not in live for e in range(6)))
    return out


def nb201_features(arch: "Nb201Arch", channels: int = 16, cells_per_stage: int = 5,
                   num_classes: int = 10) -> dict[str, float]:
    """``params``, ``flops``, op counts and path features of ``arch`` (a fresh dict)."""
    params, flops = complexity(arch, channels, cells_per_stage, num_classes)
    return {"params": params, "flops": flops, **structural_features(tuple(arch.ops))}
