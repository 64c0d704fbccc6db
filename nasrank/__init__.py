"""nasrank: neural architecture search with pluggable rankers."""
__version__ = "0.1.0"
