from uuid import uuid4

import jwt
import pytest

from domain.rbac import Principal, Role
from domain.session import Bearer
from serve import tokens
from serve.passwords import hash_password, verify_password

KEY = b"k" * 32


def _bearer(role: Role, tenant: bool = True) -> Bearer:
    return Bearer(Principal(uuid4(), role, uuid4() if tenant else None), uuid4(), 3)


def test_access_token_round_trip() -> None:
    who = _bearer(Role.MANAGER)
    assert tokens.verify(tokens.issue(who, KEY, kind="access", ttl_s=60), KEY, kind="access") == who


def test_refresh_and_media_tokens_carry_their_id_and_camera() -> None:
    who, token_id, camera = _bearer(Role.VIEWER), uuid4(), uuid4()
    refresh = tokens.issue(who, KEY, kind=tokens.REFRESH, ttl_s=60, token_id=token_id)
    assert tokens.verify_refresh(refresh, KEY) == (who, token_id)
    assert tokens.verify_media(tokens.issue(who, KEY, kind=tokens.MEDIA, ttl_s=60, camera_id=camera), KEY) == (
        who, camera)


def test_a_token_without_session_or_generation_is_refused() -> None:
    """Tokens signed before sessions existed (no sid, no gen) cannot be checked against a session: refused."""
    who = _bearer(Role.ADMIN, tenant=False).principal
    old = jwt.encode({"sub": str(who.user_id), "role": "admin", "tid": None, "typ": "access", "exp": 2**40}, KEY,
                     algorithm="HS256")
    with pytest.raises(tokens.InvalidToken, match="invalid"):
        tokens.verify(old, KEY, kind="access")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "invalid"),
        (lambda t: "x.y.z", "invalid"),
    ],
)
def test_tampered_tokens_are_refused(mutate, message) -> None:  # type: ignore[no-untyped-def]
    token = tokens.issue(_bearer(Role.ADMIN, tenant=False), KEY, kind="access", ttl_s=60)
    with pytest.raises(tokens.InvalidToken, match=message):
        tokens.verify(mutate(token), KEY, kind="access")


def test_expired_and_wrong_kind_tokens_are_refused() -> None:
    who = _bearer(Role.VIEWER)
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
