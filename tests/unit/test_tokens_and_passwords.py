from uuid import uuid4

import pytest

from domain.rbac import Principal, Role
from serve import tokens
from serve.passwords import hash_password, verify_password

KEY = b"k" * 32


def test_access_token_round_trip() -> None:
    who = Principal(uuid4(), Role.MANAGER, uuid4())
    assert tokens.verify(tokens.issue(who, KEY, kind="access", ttl_s=60), KEY, kind="access") == who


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "invalid"),
        (lambda t: "x.y.z", "invalid"),
    ],
)
def test_tampered_tokens_are_refused(mutate, message) -> None:  # type: ignore[no-untyped-def]
    token = tokens.issue(Principal(uuid4(), Role.ADMIN, None), KEY, kind="access", ttl_s=60)
    with pytest.raises(tokens.InvalidToken, match=message):
        tokens.verify(mutate(token), KEY, kind="access")


def test_expired_and_wrong_kind_tokens_are_refused() -> None:
    who = Principal(uuid4(), Role.VIEWER, uuid4())
    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.verify(tokens.issue(who, KEY, kind="access", ttl_s=-1), KEY, kind="access")
    with pytest.raises(tokens.InvalidToken, match="not an access"):
        tokens.verify(tokens.issue(who, KEY, kind="refresh", ttl_s=60), KEY, kind="access")
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(tokens.issue(who, KEY, kind="access", ttl_s=60), b"other" * 8, kind="access")


def test_passwords() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "wrong horse")
    assert not verify_password(None, "anything")
    with pytest.raises(ValueError, match="at least"):
        hash_password("short")
