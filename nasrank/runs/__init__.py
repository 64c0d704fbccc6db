"""Run safety: the append-only history, the run-folder lock, atomic writes, the trust rules for a run
folder's config.yaml, provenance, and the safe readers (pickles, YAML) and input limits.

Importing this package imports none of its modules."""
