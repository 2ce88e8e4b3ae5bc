"""Evidence that proves itself: Ed25519-signed manifests of the files we hand out (clips, reports).

The key pair is derived from the deployment's master secret with HKDF, so every API replica and actor holds the
same key and nothing new is stored; the previous secrets give the previous keys, which still verify what they
signed. The public key is published (``GET /api/v1/evidence-key``): whoever holds it — a court, the police — can
check a file and its manifest offline (``gtvision verify``), without trusting the platform or its database.

A manifest is a JSON object::

    {"manifest_version": 1,
     "document": {"kind": "clip" | "purge_report" | "deletion_report", "file_name", "media_type", "bytes",
                  "sha256", ...what the kind says about the file},
     "issued_at": ISO 8601, "key_id": 16 hex, "signature": base64}

The signature is over the canonical bytes of the manifest without ``signature`` (sorted keys, compact
separators, UTF-8): whitespace or key order may change in transit, any value may not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.settings import Settings

MANIFEST_VERSION = 1
KEY_INFO = b"gt-vision evidence key v1"
KINDS = ("clip", "purge_report", "deletion_report")
_SIGNATURE = "signature"


@dataclass(frozen=True)
class PublicKey:
    """A published evidence key: its id, the key, and the PEM a verifier is given."""

    key_id: str
    key: Ed25519PublicKey

    @property
    def raw(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def pem(self) -> str:
        return self.key.public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def as_json(self) -> dict[str, str]:
        return {"key_id": self.key_id, "algorithm": "Ed25519", "public_key_pem": self.pem,
                "public_key_raw_base64": base64.b64encode(self.raw).decode()}


@dataclass(frozen=True)
class EvidenceKey:
    """The signing half (kept in memory only, re-derived wherever it is needed) and its public key."""

    private: Ed25519PrivateKey
    public: PublicKey


def derive_key(secret: str) -> EvidenceKey:
    """The evidence key pair of a master secret (deterministic: same secret, same key, on every node)."""
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO).derive(secret.encode())
    private = Ed25519PrivateKey.from_private_bytes(seed)
    return EvidenceKey(private, public_key(private.public_key()))


def evidence_key(settings: Settings) -> EvidenceKey:
    """The deployment's current evidence key."""
    return derive_key(settings.secret)


def previous_public_keys(settings: Settings) -> list[PublicKey]:
    """The public keys of the previous master secrets: they still verify what was signed before a rotation."""
    return [derive_key(old).public for old in settings.previous_secrets]


def public_key(key: Ed25519PublicKey) -> PublicKey:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PublicKey(key_id(raw), key)


def key_id(raw_public_key: bytes) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    return hashlib.sha256(raw_public_key).hexdigest()[:16]


def load_public_key(pem: bytes) -> PublicKey:
    """A public key from its PEM (as ``/evidence-key`` gives it); ValueError if it is not an Ed25519 key."""
    loaded = serialization.load_pem_public_key(pem)
    if not isinstance(loaded, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return public_key(loaded)


def canonical(manifest: dict[str, Any]) -> bytes:
    """The bytes that are signed: the manifest without its signature, keys sorted, no spaces, UTF-8."""
    unsigned = {k: v for k, v in manifest.items() if k != _SIGNATURE}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def document(kind: str, *, file_name: str, media_type: str, size: int, sha256: str,
             **fields: Any) -> dict[str, Any]:
    """The ``document`` part of a manifest: what the file is, and the kind's own fields."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    return {"kind": kind, "file_name": file_name, "media_type": media_type, "bytes": size, "sha256": sha256,
            **fields}


def sign(key: EvidenceKey, document_fields: dict[str, Any], issued_at: str) -> dict[str, Any]:
    """A signed manifest of ``document_fields`` (see ``document``)."""
    manifest: dict[str, Any] = {"manifest_version": MANIFEST_VERSION, "document": document_fields,
                                "issued_at": issued_at, "key_id": key.public.key_id}
    manifest[_SIGNATURE] = base64.b64encode(key.private.sign(canonical(manifest))).decode()
    return manifest


def sign_file(key: EvidenceKey, kind: str, data: bytes, *, file_name: str, media_type: str, issued_at: str,
              **fields: Any) -> dict[str, Any]:
    """A signed manifest of a file held in memory (a report): its size and SHA-256, and the kind's fields."""
    return sign(key, document(kind, file_name=file_name, media_type=media_type, size=len(data),
                              sha256=hashlib.sha256(data).hexdigest(), **fields), issued_at)


def verify(manifest: Any, key: PublicKey) -> str | None:
    """Why the manifest is not genuine under ``key`` (None when its signature holds)."""
    if not isinstance(manifest, dict):
        return "the manifest is not a JSON object"
    if manifest.get("manifest_version") != MANIFEST_VERSION:
        return f"unknown manifest version {manifest.get('manifest_version')!r} (this verifier knows {MANIFEST_VERSION})"
    if manifest.get("key_id") != key.key_id:
        return (f"the manifest was signed with key {manifest.get('key_id')!r}, not with the given key {key.key_id}"
                " (an older key? /api/v1/evidence-key lists the previous ones)")
    signature = manifest.get(_SIGNATURE)
    if not isinstance(signature, str):
        return "the manifest has no signature"
    try:
        key.key.verify(base64.b64decode(signature, validate=True), canonical(manifest))
    except (binascii.Error, ValueError):
        return "the signature is not base64"
    except InvalidSignature:
        return "the signature does not match: the manifest was altered, or not signed with this key"
    if not isinstance(manifest.get("document"), dict):
        return "the manifest describes no document"
    return None


def check_file(manifest: dict[str, Any], size: int, sha256: str) -> str | None:
    """Why the file is not the one a (verified) manifest describes (None when it is)."""
    doc = manifest["document"]
    if doc.get("bytes") != size:
        return f"the file has {size} bytes; the manifest says {doc.get('bytes')}"
    if doc.get("sha256") != sha256:
        return f"the file's SHA-256 is {sha256}; the manifest says {doc.get('sha256')}: the file was altered"
    return None


def describe(manifest: dict[str, Any]) -> list[str]:
    """What a verified manifest vouches for, as lines for a person."""
    doc = manifest["document"]
    lines = [f"document: {doc.get('kind')} {doc.get('file_name')} ({doc.get('bytes')} bytes, sha256 {doc.get('sha256')})"]
    if doc.get("kind") == "clip":
        camera, city = doc.get("camera") or {}, doc.get("city") or {}
        actual = doc.get("actual_range") or {}
        exported = doc.get("exported_by") or {}
        lines += [
            f"camera: {camera.get('name')} ({camera.get('id')})",
            f"city: {city.get('name')} ({city.get('id')}, {city.get('time_zone')})",
            f"range: {actual.get('start_local')} to {actual.get('end_local')}"
            f" (UTC {actual.get('start_utc')} to {actual.get('end_utc')})",
            f"exported by: {exported.get('username')} ({exported.get('user_id')}) at {doc.get('exported_at')}",
            f"audit row: {doc.get('audit_row_hash')}",
        ]
    else:
        for name in ("city", "period", "pass_id", "totals", "requested_by", "completed_at"):
            if name in doc:
                lines.append(f"{name.replace('_', ' ')}: {json.dumps(doc[name], ensure_ascii=False)}")
    lines.append(f"signed by key {manifest.get('key_id')} at {manifest.get('issued_at')}")
    return lines
