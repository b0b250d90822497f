import time

import pytest

from cliplens.core.config import ConfigError
from cliplens.core.errors import Overloaded, PermissionDenied, Unauthenticated
from cliplens.gateway.auth import ANONYMOUS, Guard, parse_keys


def test_inline_and_file_keys(tmp_path):
    path = tmp_path / "keys.yaml"
    import hashlib
    digest = hashlib.sha256(b"hashed-secret").hexdigest()
    path.write_text(f"keys:\n  - name: ops\n    key: s1\n    scopes: [read, admin]\n"
                    f"  - name: hashed\n    sha256: {digest}\n    rate_per_second: 5\n")
    keys = parse_keys(str(path), "ci:s2")
    assert [k.name for k in keys] == ["ops", "hashed", "ci"]
    guard = Guard(keys)
    assert guard.authenticate([("authorization", "Bearer s1")]).scopes == {"read", "admin"}
    assert guard.authenticate([("x-api-key", "hashed-secret")]).name == "hashed"
    assert guard.authenticate([("authorization", "bearer s2")]).scopes == {"read"}


@pytest.mark.parametrize("inline, fragment", [
    ("nokey", "expected name:key"),
    ("a:k:write", "scopes must be among"),
    ("a:k1;a:k2", "names must be unique"),
])
def test_bad_key_config(inline, fragment):
    with pytest.raises(ConfigError, match=fragment):
        parse_keys("", inline)


def test_no_keys_means_anonymous_with_every_scope():
    guard = Guard([])
    assert not guard.enabled
    assert guard.check([], "/cliplens.v1.LexiconService/DeleteBank") == ANONYMOUS


def test_missing_and_unknown_keys_are_unauthenticated():
    guard = Guard(parse_keys("", "a:secret"))
    with pytest.raises(Unauthenticated, match="missing API key"):
        guard.authenticate([])
    with pytest.raises(Unauthenticated, match="unknown API key") as e:
        guard.authenticate([("authorization", "Bearer wrong")])
    assert "secret" not in str(e.value) and "wrong" not in str(e.value)


def test_admin_scope_guards_bank_mutations_only():
    guard = Guard(parse_keys("", "r:k1;w:k2:read+admin"))
    reader = guard.authenticate([("x-api-key", "k1")])
    guard.authorize(reader, "/cliplens.v1.LexiconService/GetBank")
    with pytest.raises(PermissionDenied, match="lacks scope 'admin'"):
        guard.authorize(reader, "/cliplens.v1.LexiconService/ImportBank")
    guard.authorize(guard.authenticate([("x-api-key", "k2")]),
                    "/cliplens.v1.LexiconService/ImportBank")


def test_token_bucket_per_key_with_retry_hint():
    guard = Guard(parse_keys("", "a:k1;b:k2"), rate_per_second=10, burst=2)
    a = guard.authenticate([("x-api-key", "k1")])
    b = guard.authenticate([("x-api-key", "k2")])
    guard.charge(a)
    guard.charge(a)
    with pytest.raises(Overloaded) as e:
        guard.charge(a)
    assert 1 <= int(e.value.trailers["retry-after-ms"]) <= 100
    guard.charge(b)  # another key has its own bucket
    time.sleep(0.12)
    guard.charge(a)  # refilled at 10/s
