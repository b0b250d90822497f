"""Explanation metrics (names are the dashboard's contract)."""

from prometheus_client import Counter, Histogram

from cliplens.core.metrics import LATENCY_BUCKETS

CACHE_HITS = Counter("cliplens_explanation_cache_hits", "Text-embedding cache hits.", ["cache"])
CACHE_MISSES = Counter("cliplens_explanation_cache_misses", "Text-embedding cache misses.",
                       ["cache"])
METHOD_SECONDS = Histogram("cliplens_explanation_method_seconds",
                           "Time to compute one explanation.", ["method"],
                           buckets=LATENCY_BUCKETS)
