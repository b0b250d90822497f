"""Per-call latency of the one-pass explanations against the forward pass they wrap.

    python benchmarks/explanation.py            # a table
    python benchmarks/explanation.py --json     # one JSON object
    python benchmarks/explanation.py --quick    # fewer calls (checks that it runs)

Starts the four services as processes (or uses the running ones) and calls the explanation
service directly on loopback with one held-out toyworld scene, one blocking client:

- EncodeDense (surgery tokens) on the embedding service: the forward pass, the floor;
- Surgery of one label, and dense ConVis of one concept over the toyworld dictionary (975
  synsets) and over the general `physical` one (7,194): what the explanation service adds on
  top of that forward pass (lexicon lookups, ranking against the dictionary, maps, encoding).

The ratio column is the call's median over EncodeDense's: how much of a dense explanation is
the model. The dictionary's embeddings are cached after the first call (per model fingerprint
and content hash), so a warm call costs no lexicon fetch of the entries.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import grpc
import numpy as np

from cliplens.client import local
from cliplens.client.cli.evaluate import localization_samples
from cliplens.v1 import (
    embedding_pb2,
    embedding_pb2_grpc,
    explanation_pb2,
    explanation_pb2_grpc,
)


def _median_ms(call, n: int) -> dict[str, float]:
    call()  # warm: caches, first-call allocations
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    ms = np.asarray(samples) * 1e3
    return {"n": n, "p50_ms": round(statistics.median(ms), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2)}


def measure(n: int) -> dict[str, dict[str, float]]:
    sample = localization_samples(1)[0]
    image, concept = sample.image, sample.concept
    with local.running() as layout:
        embedding = embedding_pb2_grpc.EmbeddingServiceStub(
            grpc.insecure_channel(layout.address("embedding")))
        explanation = explanation_pb2_grpc.ExplanationServiceStub(
            grpc.insecure_channel(layout.address("explanation")))

        def convis(dictionary: str):
            request = explanation_pb2.ConvisRequest(image=image, concepts=[concept],
                                                    dictionary=dictionary,
                                                    mode=explanation_pb2.CONVIS_MODE_DENSE)
            return lambda: list(explanation.Convis(request, timeout=60))

        calls = {
            "encode_dense": lambda: embedding.EncodeDense(embedding_pb2.EncodeDenseRequest(
                images=[image], mode=embedding_pb2.DENSE_MODE_SURGERY), timeout=60),
            "surgery": lambda: explanation.Surgery(explanation_pb2.SurgeryRequest(
                images=[image], labels=[concept]), timeout=60),
            "convis_dense_toyworld": convis("toyworld"),
            "convis_dense_physical": convis("physical"),
        }
        results = {name: _median_ms(call, n) for name, call in calls.items()}
    floor = results["encode_dense"]["p50_ms"]
    for r in results.values():
        r["over_forward"] = round(r["p50_ms"] / floor, 2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n", type=int, default=40, help="calls per measure")
    args = parser.parse_args()
    results = measure(5 if args.quick else args.n)
    if args.json:
        print(json.dumps(results))
        return
    print(f"{'call':<24}{'p50 ms':>9}{'p99 ms':>9}{'x forward':>11}")
    for name, r in results.items():
        print(f"{name:<24}{r['p50_ms']:9.2f}{r['p99_ms']:9.2f}{r['over_forward']:11.2f}")


if __name__ == "__main__":
    main()
