"""LightningModules and DataModules: all training in nasrank goes through these."""
from nasrank.lightning_modules.classification import ClassificationModule, make_trainer
from nasrank.lightning_modules.data import ImageDataModule
from nasrank.lightning_modules.datasets import DATASETS, dataset_info, read_arrays

__all__ = ["ImageDataModule", "DATASETS", "dataset_info", "read_arrays", "ClassificationModule", "make_trainer"]
