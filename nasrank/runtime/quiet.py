"""Third-party messages that say nothing to a nasrank user, silenced where they originate.

* Lightning's ``_pytree`` deprecation (``isinstance(treespec, LeafSpec)``), raised inside Lightning;
* PyTorch / Lightning ``weights_only`` notices (nasrank loads state dicts with ``weights_only=True``);
* Ray's token-authentication banner for the local cluster nasrank starts itself (a remote cluster's
  own settings are untouched).
"""
from __future__ import annotations

import logging
import warnings

RAY_AUTH_LOGGER = "ray._private.authentication.authentication_token_setup"


class _DropTokenBanner(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Token authentication is" not in record.getMessage()


def silence_third_party() -> None:
    """Install the filters (idempotent)."""
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)` is deprecated.*")
    warnings.filterwarnings("ignore", message=r".*weights_only.*", category=FutureWarning)
    warnings.filterwarnings("ignore", message=r".*weights_only.*", category=UserWarning)
    log = logging.getLogger(RAY_AUTH_LOGGER)
    if not any(isinstance(f, _DropTokenBanner) for f in log.filters):
        log.addFilter(_DropTokenBanner())
