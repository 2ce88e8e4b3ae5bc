"""The evidence key and manifests (domain/evidence.py): derived, signed and verified without any I/O."""

from __future__ import annotations

import copy
import hashlib

from domain.evidence import (
    KEY_INFO,
    canonical,
    check_file,
    derive_key,
    document,
    evidence_key,
    load_public_key,
    previous_public_keys,
    sign,
    verify,
)
from domain.settings import Settings

SECRET = "s" * 40


def _settings(secret: str = SECRET, previous: tuple[str, ...] = ()) -> Settings:
    return Settings(database_url="", object_store_url="", public_url="", secret=secret, previous_secrets=previous)


def _manifest() -> dict[str, object]:
    return sign(derive_key(SECRET), document("clip", file_name="clip.mp4", media_type="video/mp4", size=3,
                                             sha256=hashlib.sha256(b"abc").hexdigest(), camera={"name": "Praça"}),
                issued_at="2026-01-01T00:00:00+00:00")


def test_the_key_is_the_same_wherever_it_is_derived_and_changes_with_the_secret() -> None:
    one, two = derive_key(SECRET), derive_key(SECRET)
    assert one.public.raw == two.public.raw and one.public.key_id == two.public.key_id
    assert len(one.public.key_id) == 16 and one.public.key_id == hashlib.sha256(one.public.raw).hexdigest()[:16]
    assert derive_key("t" * 40).public.key_id != one.public.key_id
    assert KEY_INFO == b"gt-vision evidence key v1"
    assert load_public_key(one.public.pem.encode()).key_id == one.public.key_id, "the PEM round-trips"


def test_previous_secrets_give_the_previous_keys_which_still_verify_what_they_signed() -> None:
    old_manifest = _manifest()
    rotated = _settings("n" * 40, previous=(SECRET,))
    assert evidence_key(rotated).public.key_id != old_manifest["key_id"]
    (previous,) = previous_public_keys(rotated)
    assert previous.key_id == old_manifest["key_id"] and verify(old_manifest, previous) is None
    refused = verify(old_manifest, evidence_key(rotated).public)
    assert refused is not None and "not with the given key" in refused


def test_a_signed_manifest_verifies_and_any_changed_value_does_not() -> None:
    manifest = _manifest()
    key = derive_key(SECRET).public
    assert verify(manifest, key) is None
    assert check_file(manifest, 3, hashlib.sha256(b"abc").hexdigest()) is None
    altered = copy.deepcopy(manifest)
    altered["document"]["camera"]["name"] = "Praca"  # type: ignore[index]
    assert verify(altered, key) == "the signature does not match: the manifest was altered, or not signed with this key"
    resized = copy.deepcopy(manifest)
    resized["document"]["bytes"] = 4  # type: ignore[index]
    assert verify(resized, key) is not None


def test_the_signature_covers_the_canonical_form_not_the_spelling() -> None:
    manifest = _manifest()
    reordered = dict(reversed(list(manifest.items())))
    assert canonical(reordered) == canonical(manifest) and verify(reordered, derive_key(SECRET).public) is None
    assert b" " not in canonical({"a": 1, "b": [1, 2]}) and "Praça".encode() in canonical(manifest)
    assert b"signature" not in canonical(manifest)


def test_a_file_that_differs_from_the_manifest_says_how() -> None:
    manifest = _manifest()
    assert check_file(manifest, 4, "x") == "the file has 4 bytes; the manifest says 3"
    wrong = check_file(manifest, 3, hashlib.sha256(b"abd").hexdigest())
    assert wrong is not None and "the file was altered" in wrong


def test_malformed_manifests_are_refused_with_a_reason() -> None:
    key = derive_key(SECRET).public
    assert verify([1], key) == "the manifest is not a JSON object"
    assert verify({**_manifest(), "manifest_version": 2}, key) is not None
    assert verify({**_manifest(), "signature": "%%%"}, key) == "the signature is not base64"
    unsigned = _manifest()
    del unsigned["signature"]
    assert verify(unsigned, key) == "the manifest has no signature"
