"""Explanation pipelines: gather features from the peers, run the pure math, shape results.

Each pipeline is an async function over `Peers` and plain arguments; servicers only convert
protos to arguments and results back.
"""
