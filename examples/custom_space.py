"""Your own search space: a small CNN (depth, widths, kernel sizes), searched with nasrank:
    python examples/custom_space.py [CIFAR10_DIR] [QUERIES]   # or $NASRANK_CIFAR10; default ../shared/data/cifar10
    PYTHONPATH=. nasrank search --space examples.custom_space:TinyCnnSpace --ranker params --budget-queries 20
"""
import itertools, os, re, sys
from torch import nn
from nasrank.errors import NasrankError
from nasrank.spaces.base import SearchSpace

WIDTHS, KERNELS, DEPTHS = (8, 16, 32), (3, 5), (1, 2, 3)
LAYERS = list(itertools.product(WIDTHS, KERNELS))  # one layer: (width, kernel size)


class TinyCnnSpace(SearchSpace):
    """An architecture is a tuple of 1-3 (width, kernel) layers, each conv-BN-ReLU-maxpool."""
    registry_name, size = "tiny_cnn", sum(len(LAYERS) ** d for d in DEPTHS)

    def sample(self, rng): return tuple(LAYERS[i] for i in rng.integers(len(LAYERS), size=int(rng.choice(DEPTHS))))
    def mutate(self, arch, rng): return (nbrs := self.neighbours(arch))[int(rng.integers(len(nbrs)))]
    def to_string(self, arch): return "-".join(f"{w}k{k}" for w, k in arch)

    def neighbours(self, arch):  # change one layer, drop one, or append one
        out = [arch[:i] + (l,) + arch[i + 1:] for i in range(len(arch)) for l in LAYERS if l != arch[i]]
        out += [arch[:i] + arch[i + 1:] for i in range(len(arch)) if len(arch) > min(DEPTHS)]
        return list(dict.fromkeys(out + [arch + (l,) for l in LAYERS if len(arch) < max(DEPTHS)]))

    def build(self, arch, num_classes=None, **scale):
        layers, c = [], 3
        for w, k in arch:
            layers += [nn.Conv2d(c, w, k, padding=k // 2, bias=False), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2)]
            c = w
        return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes or 10))

    def from_string(self, text):
        arch = tuple(tuple(map(int, s.split("k"))) for s in text.split("-") if re.fullmatch(r"\d+k\d+", s))
        if self.to_string(arch) != text or not (len(arch) in DEPTHS and set(arch) <= set(LAYERS)):
            raise NasrankError(f"not a TinyCnnSpace architecture: {text!r} (expected e.g. '16k3-32k5')")
        return arch


def main(argv=None):
    from nasrank.rankers import RunContext  # the registries know the built-in rankers and searchers by name
    from nasrank.registry import RANKERS, SEARCHERS
    from nasrank.searchers import Budget
    argv = sys.argv[1:] if argv is None else argv
    data = argv[0] if argv else os.environ.get("NASRANK_CIFAR10", "../shared/data/cifar10")
    queries, space, results = int(argv[1]) if len(argv) > 1 else 20, TinyCnnSpace(), {}
    train = dict(epochs=1, train_fraction=0.02, val_fraction=0.02, batch_size=128)  # 1 epoch on 2% of the images
    for name, cfg in (("synflow" if "synflow" in RANKERS else "params", {}), ("train", train)):
        ranker = RANKERS.create(name, space, RunContext(data_dir=data, device="cpu"), **cfg)
        for searcher, scfg in (("random", {}), ("evolution", dict(population_size=5, sample_size=2)), ("local", {})):
            best = SEARCHERS.create(searcher, space, ranker, seed=0, **scfg).run(Budget(queries=queries)).best()
            results[searcher, name] = best
            print(f"{searcher:9s} + {name:7s}: best {best.arch:14s} score {best.score:.4g}  ({queries} queries)")
    return results


if __name__ == "__main__":
    main()
