"""The metrics live in ``kzclassify.metrics`` (one definition; ``kzclassify evaluate`` needs them too)."""
from kzclassify.metrics import SpanCounts, cohen_kappa, prf, type_scores

__all__ = ["SpanCounts", "cohen_kappa", "prf", "type_scores"]
