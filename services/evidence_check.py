"""Checking a file against its signed manifest, offline: what ``gtvision verify`` runs (docs/evidence.md).

First the manifest's signature under the given public key (and that the manifest names that key), then the
file's size and SHA-256 against the manifest. Needs nothing but the three files: no database, no network.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from domain.evidence import check_file, describe, load_public_key, verify


@dataclass(frozen=True)
class Verdict:
    """Whether the file is the one the manifest describes, signed by the key; and what was verified, or why not."""

    ok: bool
    lines: list[str]


def verify_document(file: Path, manifest_file: Path, public_key_pem: Path) -> Verdict:
    try:
        key = load_public_key(public_key_pem.read_bytes())
    except (OSError, ValueError) as exc:
        return Verdict(False, [f"cannot read the public key {public_key_pem}: {exc}"])
    try:
        manifest = json.loads(manifest_file.read_bytes())
    except OSError as exc:
        return Verdict(False, [f"cannot read the manifest {manifest_file}: {exc}"])
    except ValueError:
        return Verdict(False, [f"the manifest {manifest_file} is not JSON: it was damaged or altered"])
    reason = verify(manifest, key)
    if reason is None:
        try:
            size, digest = _size_and_sha256(file)
        except OSError as exc:
            return Verdict(False, [f"cannot read the file {file}: {exc}"])
        reason = check_file(manifest, size, digest)
    if reason is not None:
        return Verdict(False, [reason])
    return Verdict(True, [f"signature: valid (Ed25519, key {key.key_id})",
                          "file: size and SHA-256 match the manifest", *describe(manifest)])


def _size_and_sha256(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()
