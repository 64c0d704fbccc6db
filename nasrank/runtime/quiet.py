"""Third-party messages that say nothing to a nasrank user, silenced where they originate.

* Lightning's ``_pytree`` deprecation (``isinstance(treespec, LeafSpec)``), raised inside Lightning;
* PyTorch / Lightning ``weights_only`` notices (nasrank loads state dicts with ``weights_only=True``); the
  "`weights_only` was not set" line of ``Trainer.save_checkpoint`` is avoided where it originates (nasrank
  passes ``weights_only=False`` when it saves a full checkpoint), and dropped here for any other caller;
* Ray's token-authentication banner for the local cluster nasrank starts itself (a remote cluster's
  own settings are untouched).
"""
from __future__ import annotations

import logging
import warnings

RAY_AUTH_LOGGER = "ray._private.authentication.authentication_token_setup"
CHECKPOINT_LOGGER = "lightning.pytorch.trainer.connectors.checkpoint_connector"


class _DropTokenBanner(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Token authentication is" not in record.getMessage()


class _DropWeightsOnlyDefault(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "`weights_only` was not set" not in record.getMessage()


def silence_third_party() -> None:
    """Install the filters (idempotent)."""
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)` is deprecated.*")
    warnings.filterwarnings("ignore", message=r".*weights_only.*", category=FutureWarning)
    warnings.filterwarnings("ignore", message=r".*weights_only.*", category=UserWarning)
    for name, kind in ((RAY_AUTH_LOGGER, _DropTokenBanner), (CHECKPOINT_LOGGER, _DropWeightsOnlyDefault)):
        log = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in log.filters):
            log.addFilter(kind())
