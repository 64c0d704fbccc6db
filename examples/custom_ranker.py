"""Your own ranker: a hand-made proxy for NB201 cells, ranked against the embedded table.
    python examples/custom_ranker.py [OUT]      # Kendall tau of ConvCount and #params on 100 cells
    PYTHONPATH=. nasrank evaluate --space nb201 --benchmark embedded --sample 200 --output runs/mine \
        --rankers mine=examples.custom_ranker:ConvCount,params --ranker-cfg mine.conv3x3=3
"""
import sys
from nasrank.rankers.base import TimedRanker


class ConvCount(TimedRanker):
    """Score = a weighted count of the cell's convolutions, less the ops no path uses."""

    def __init__(self, space, context=None, conv3x3: float = 2.0, conv1x1: float = 1.0) -> None:
        super().__init__(space, context)  # the options are read back for the result store's key
        self.conv3x3, self.conv1x1 = conv3x3, conv1x1

    def compute_score(self, arch):
        f = self.space.features(arch)  # n_<op> counts and structure features of the cell
        return self.conv3x3 * f["n_nor_conv_3x3"] + self.conv1x1 * f["n_nor_conv_1x1"] - f["n_dead_ops"], {}


def main(argv=()):
    import nasrank
    from nasrank import EvaluateConfig, RankerSpec

    out = argv[0] if argv else "runs/custom_ranker"
    ranker = RankerSpec("mine", "examples.custom_ranker:ConvCount", {"conv3x3": 3})
    ev = nasrank.evaluate("nb201", EvaluateConfig([ranker, "params"], sample=100, output=out), benchmark="embedded")
    return {r: round(ev.report["rankers"][r]["criteria"]["iso"]["kendall_tau"], 3) for r in ("mine", "params")}


if __name__ == "__main__":
    print(main(sys.argv[1:]))
