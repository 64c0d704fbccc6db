"""LightningModules and DataModules: all training in nasrank goes through these.

The names below are imported on first use, so that a torch-free module of this package
(:mod:`~nasrank.lightning_modules.settings`) can be read without loading Lightning.
"""
from importlib import import_module

_WHERE = {"ClassificationModule": "classification", "make_trainer": "classification", "ImageDataModule": "data",
          "DATASETS": "datasets", "dataset_info": "datasets", "read_arrays": "datasets"}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"nasrank.lightning_modules.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'nasrank.lightning_modules' has no attribute {name!r}")
