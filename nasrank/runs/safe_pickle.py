"""Unpickling that can only build the classes a format needs.

``pickle.load`` runs whatever a file names (``os.system``, ``builtins.eval``,
...). Readers of pickled formats (CIFAR/ImageNet16 batches, the embedded
table) use :class:`AllowListUnpickler`, which resolves only the globals it is
given and refuses every other one with :class:`pickle.UnpicklingError`.
"""
from __future__ import annotations

import pickle
from typing import IO, Any, Mapping

#: the globals of a pickled numpy array (numpy 1.x and 2.x module names; ``_codecs.encode``
#: rebuilds ``bytes`` in protocol-2 pickles written by Python 3)
NUMPY_ARRAY_GLOBALS: frozenset[tuple[str, str]] = frozenset({
    ("_codecs", "encode"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
})


class AllowListUnpickler(pickle.Unpickler):
    """An unpickler that resolves only ``allowed`` globals.

    ``allowed`` maps ``(module, name)`` to the object to use, or to ``None``
    to import the real one; any other global raises ``UnpicklingError``.
    """

    def __init__(self, fh: IO[bytes], allowed: Mapping[tuple[str, str], Any], **kwargs: Any) -> None:
        super().__init__(fh, **kwargs)
        self.allowed = dict(allowed)

    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        if key not in self.allowed:
            raise pickle.UnpicklingError(f"the file refers to {module}.{name}, which nasrank does not load "
                                         "(not part of this format)")
        obj = self.allowed[key]
        return super().find_class(module, name) if obj is None else obj


def load_numpy_pickle(fh: IO[bytes], encoding: str = "ASCII") -> Any:
    """Unpickle plain data and numpy arrays only (the CIFAR / ImageNet16 batch format)."""
    return AllowListUnpickler(fh, dict.fromkeys(NUMPY_ARRAY_GLOBALS), encoding=encoding).load()
