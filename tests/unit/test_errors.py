"""The one root of errors and the one mapping of each to a gRPC status (in the interceptor)."""

import inspect

import grpc

from cliplens.core import errors
from cliplens.core.interceptors import STATUS, status_of


def test_every_error_class_maps_to_exactly_one_status():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass)
               if issubclass(c, errors.CliplensError) and c is not errors.PeerError]
    assert set(classes) == set(STATUS)
    codes = [STATUS[c] for c in classes if c is not errors.CliplensError]
    assert len(codes) == len(set(codes))  # no two classes share a status
    assert status_of(errors.CliplensError("x")) == grpc.StatusCode.INTERNAL


def test_a_subclass_takes_its_bases_status_and_a_peer_error_its_peers():
    class Narrow(errors.NotFound):
        pass

    assert status_of(Narrow("x")) == grpc.StatusCode.NOT_FOUND
    assert status_of(errors.PeerError("DEADLINE_EXCEEDED", "slow")) == \
        grpc.StatusCode.DEADLINE_EXCEEDED
