"""Sealing (AES-GCM, key ids, context binding), the trusted-proxy rule, push token hashes, and the master secret
``gtvision up`` accepts."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from domain.forwarded import client_address, trusted_networks
from domain.lpr.push_token import new_token, token_hash
from domain.sealing import Sealer, Unsealable, key_id, sealer_for
from domain.settings import Settings
from runtime import cli

KEY, OLD = b"k" * 32, b"o" * 32
TRUSTED = trusted_networks(["127.0.0.0/8", "10.9.0.0/16"])


def test_a_sealed_value_opens_only_with_its_key_and_context() -> None:
    sealer = Sealer(KEY)
    sealed = sealer.seal("p@ss:w/rd", "cameras.rtsp_password:1")
    assert sealed.startswith(f"sealed:{key_id(KEY)}:") and "p@ss" not in sealed
    assert sealer.open(sealed, "cameras.rtsp_password:1") == "p@ss:w/rd"
    assert sealer.seal("p@ss:w/rd", "cameras.rtsp_password:1") != sealed, "a fresh nonce each time"
    with pytest.raises(Unsealable, match="another row"):
        sealer.open(sealed, "cameras.rtsp_password:2")  # copied into another camera's row
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(Unsealable):
        sealer.open(tampered, "cameras.rtsp_password:1")
    with pytest.raises(Unsealable, match="not sealed"):
        sealer.open("p@ss", "cameras.rtsp_password:1")
    with pytest.raises(Unsealable, match="does not hold"):
        Sealer(OLD).open(sealed, "cameras.rtsp_password:1")


def test_previous_keys_open_old_values_and_only_the_current_one_seals() -> None:
    old = Sealer(OLD).seal("s", "c")
    rotated = Sealer(KEY, [OLD])
    assert rotated.open(old, "c") == "s" and not rotated.is_current(old)
    assert rotated.is_current(rotated.seal("s", "c"))


def test_the_seal_key_comes_from_the_master_secret_and_previous_ones_still_open() -> None:
    before = Settings("", "", "", secret="a" * 40)
    after = Settings("", "", "", secret="b" * 40, previous_secrets=("a" * 40,))
    sealed = sealer_for(before).seal("secret", "c")
    assert sealer_for(after).open(sealed, "c") == "secret"
    assert sealer_for(after).current_id != sealer_for(before).current_id


def test_forwarded_for_counts_only_from_a_trusted_proxy_and_the_right_most_untrusted_hop_wins() -> None:
    assert client_address("203.0.113.5", ["10.1.2.3"], TRUSTED) == "203.0.113.5", "a client's header is ignored"
    assert client_address("127.0.0.1", ["10.1.2.3"], ()) == "127.0.0.1", "no trusted proxies: never believed"
    assert client_address("127.0.0.1", ["10.1.2.3"], TRUSTED) == "10.1.2.3"
    assert client_address("127.0.0.1", ["10.1.2.3, 192.0.2.7"], TRUSTED) == "192.0.2.7", "forged left part"
    assert client_address("127.0.0.1", ["192.0.2.7, 10.1.2.3", "10.9.4.4"], TRUSTED) == "10.1.2.3", "our hops skipped"
    assert client_address("127.0.0.1", ["garbage"], TRUSTED) is None
    assert client_address("127.0.0.1", [], TRUSTED) == "127.0.0.1"
    assert client_address(None, ["10.1.2.3"], TRUSTED) is None
    with pytest.raises(ValueError, match="not-a-cidr"):
        Settings("", "", "", secret="x", trusted_proxies=("not-a-cidr",))


def test_push_tokens_are_kept_as_sha256() -> None:
    token = new_token()
    assert len(token) >= 32 and len(token_hash(token)) == 32 and token_hash(token) == token_hash(token)


def test_a_master_secret_under_32_bytes_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GTVISION_SECRET", "short-secret")
    with pytest.raises(cli.WeakSecret, match="at least 32"):
        cli._secret(tmp_path)
    assert cli.main(["up", "--var-dir", str(tmp_path)]) == 2
    assert "at least 32" in capsys.readouterr().err
    monkeypatch.setenv("GTVISION_SECRET", "x" * 32)
    assert cli._secret(tmp_path) == "x" * 32


def test_the_generated_secret_file_is_never_readable_by_others(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    monkeypatch.delenv("GTVISION_SECRET", raising=False)
    monkeypatch.setattr(Path, "chmod", lambda *_: None)  # a crash between writing and restricting the mode
    old_umask = os.umask(0o022)
    try:
        secret = cli._secret(tmp_path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600
    assert len(secret) >= 32 and cli._secret(tmp_path) == secret, "created once, then read"


def test_an_old_world_readable_secret_file_is_restricted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GTVISION_SECRET", raising=False)
    (tmp_path / "secret").write_text("y" * 64)
    (tmp_path / "secret").chmod(0o644)
    assert cli._secret(tmp_path) == "y" * 64
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600
