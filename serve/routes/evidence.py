"""The evidence key: the public half of the key that signs clip and report manifests (docs/evidence.md).

Public, without authentication: it is a public key, and whoever must check a clip (a court, the police) needs
it without an account. The previous keys (of the previous master secrets) still verify older manifests.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from domain.evidence import evidence_key, previous_public_keys
from serve.deps import Res

router = APIRouter(tags=["evidence"])


@router.get("/evidence-key")
async def get_evidence_key(res: Res) -> dict[str, Any]:
    """The current Ed25519 evidence key (id, PEM, raw base64) and the previous ones."""
    return {**evidence_key(res.settings).public.as_json(),
            "previous": [key.as_json() for key in previous_public_keys(res.settings)]}
