"""The cross-tenant matrix: every operation of the live OpenAPI, with every id it takes naming city B's things.

``requests_for`` turns one OpenAPI operation into concrete requests (path, query and body filled from the
schema, every id-like input pointing at B); ``judge`` says whether an answer leaked B. An input whose name
looks like an id but is not in the maps below is *unclassified*: the test fails, so a new route or field must
be added here (and so be covered) before it ships.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

# Answers that refuse without saying anything about B's thing.
REFUSALS = frozenset({401, 403, 404, 405, 409, 422})


@dataclass(frozen=True)
class PathKind:
    """What a path parameter names. ``owned``: a thing of one city, so any 2xx for B's one is a leak."""

    key: str  # the entry of World.values that fills it
    owned: bool


# Path parameter name → what it names. A new path parameter must be added here (the test fails until it is).
PATH_PARAMETERS: dict[str, PathKind] = {
    "tenant_id": PathKind("tenant", owned=True),
    "camera_id": PathKind("camera", owned=True),
    "clip_id": PathKind("clip", owned=True),
    "hold_id": PathKind("hold", owned=True),
    "mosaic_id": PathKind("mosaic", owned=True),
    "entry_id": PathKind("watch_entry", owned=True),
    "user_id": PathKind("user", owned=True),
    "event_id": PathKind("lpr_event", owned=True),  # a plate read (its evidence images)
    "key": PathKind("object_key", owned=True),  # an object of B's camera; the URL also needs a signature
    # Not a city's thing: passes are platform-wide (their report is scoped by ?tenant_id=, checked as a query).
    "pass_id": PathKind("retention_pass", owned=False),
    # The LPR sender's credential, not a user's object: whoever holds it *is* that camera (bearer ignored),
    # so a 2xx is fine as long as it shows nothing of B.
    "token": PathKind("lpr_token", owned=False),
    "plate": PathKind("plate", owned=False),  # a licence plate: every city may have reads of it (LGPD routes)
    "init_id": PathKind("number", owned=False),  # a live feed's init segment number
    "seq": PathKind("number", owned=False),  # a live segment's sequence number
    "index": PathKind("number", owned=False),  # a plate read's image number
}

# Query parameters and body fields that name a thing → the World entry filling them ("tenant" follows the variant).
ID_INPUTS: dict[str, str] = {
    "tenant_id": "tenant",
    "camera_id": "camera",
    "camera": "camera",
    "camera_ids": "camera",
    "cameras": "camera",
    "plan_id": "plan",  # the platform's plan catalogue (not a city's thing)
    "request_id": "lgpd_request",  # a city's LGPD data-subject request
    "user_id": "user",  # the audit trail's actor filter
    "token": "media_token",  # a media token (?token=) the caller holds for its own camera
}

# Fields that look like ids but are not (name → why).
NOT_IDS: dict[str, str] = {
    "id": "MediaMTX's session id in EdgeAuthRequest (free text, not ours)",
    "cursor": "an opaque page cursor of LPR search",
    "before_id": "the audit trail's page key: a row id, filtered by the caller's city like every row",
}

# Valid values for fields a generic value would fail, so the request reaches the city check, not the validator.
BODY_OVERRIDES: dict[str, dict[str, Any]] = {
    "CameraIn": {"rtsp_url": "rtsp://127.0.0.1:9/matrix", "enabled": False},
    "UserIn": {"role": "viewer", "password": "a long password"},
    "WatchIn": {"plate": "MTX1234"},
    "RequestIn": {"plate": "MTX1234"},
    "TimeZoneIn": {"time_zone": "America/Sao_Paulo"},
    "PlanIn": {"retention_days": 7, "camera_quota": 1},
}


@dataclass
class World:
    """City A (the callers' city) and B (whose things every request names)."""

    tenant_a: str
    tenant_b: str
    values: dict[str, str]  # World key → B's value (or a neutral one: number, plan)
    media_token_a: str  # A manager's media token for A's own camera
    secrets_of_b: list[str] = field(default_factory=list)  # every string that must not reach A: ids, names, tokens


@dataclass(frozen=True)
class Probe:
    """One request of the matrix."""

    method: str
    path: str  # the OpenAPI template, e.g. /api/v1/cameras/{camera_id}
    url: str
    params: dict[str, str]
    body: Any
    role: str
    variant: str  # "b" (tenant_id = B too) or "own" (tenant_id = A, the things B's)
    owned_in_path: bool


class Unclassified(Exception):
    """An input the matrix cannot fill: add it to PATH_PARAMETERS / ID_INPUTS / NOT_IDS."""


def _looks_like_id(name: str, schema: dict[str, Any]) -> bool:
    if name in NOT_IDS:
        return False
    return name.endswith(("_id", "_ids")) or name in ID_INPUTS or _is_uuid(schema)


def _is_uuid(schema: dict[str, Any]) -> bool:
    options = [schema, *schema.get("anyOf", []), schema.get("items", {})]
    return any(o.get("format") == "uuid" or (o.get("items") or {}).get("format") == "uuid" for o in options)


class Filler:
    """Values for one operation's inputs from its schema; id-like inputs from the World."""

    def __init__(self, spec: dict[str, Any], world: World, variant: str) -> None:
        self.spec, self.world, self.variant = spec, world, variant
        self.now = datetime.now(UTC).replace(microsecond=0)

    def resolve(self, schema: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        name = None
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            schema = self.spec["components"]["schemas"][name]
        return schema, name

    def id_value(self, name: str, schema: dict[str, Any]) -> Any:
        if name not in ID_INPUTS:
            raise Unclassified(f"id-like input {name!r}: add it to ID_INPUTS (or NOT_IDS)")
        key = ID_INPUTS[name]
        if key == "tenant":
            value = self.world.tenant_b if self.variant == "b" else self.world.tenant_a
        elif key == "media_token":
            value = self.world.media_token_a
        else:
            value = self.world.values[key]
        resolved, _ = self.resolve(schema)
        is_list = any(o.get("type") == "array" for o in (resolved, *resolved.get("anyOf", [])))
        return [value] if is_list else value

    def value(self, name: str, schema: dict[str, Any]) -> Any:
        """A valid value; ``name`` picks times that make a sensible range."""
        schema, ref = self.resolve(schema)
        if "anyOf" in schema:
            options = [o for o in schema["anyOf"] if self.resolve(o)[0].get("type") != "null"]
            return self.value(name, options[0]) if options else None
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return self.body(schema, ref)
        if kind == "array":
            return [self.value(name, schema.get("items", {}))] * max(1, schema.get("minItems", 0))
        if kind == "integer":
            low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1 if "exclusiveMinimum" in schema else 1)
            return int(low)
        if kind == "number":
            return float(schema.get("minimum", 0))
        if kind == "boolean":
            return False
        fmt = schema.get("format")
        if fmt == "date-time":
            offsets = {"start": -3600, "end": 0, "at": -1800, "before": 0}
            return (self.now + timedelta(seconds=offsets.get(name, -60))).isoformat()
        if fmt == "date":
            return date.today().isoformat()
        if fmt in ("ipv4network", "ipv6network"):
            return "127.0.0.1/32"
        return f"m{uuid.uuid4().hex[:12]}".ljust(schema.get("minLength", 1), "x")

    def body(self, schema: dict[str, Any], ref: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        required = set(schema.get("required", []))
        for prop, sub in schema.get("properties", {}).items():
            if _looks_like_id(prop, self.resolve(sub)[0]):
                out[prop] = self.id_value(prop, sub)
            elif prop in required:
                out[prop] = self.value(prop, sub)
        out.update(BODY_OVERRIDES.get(ref or "", {}))
        if ref == "EdgeAuthRequest":  # A's media token, for B's camera path on the edge
            out.update(action="read", path=f"cam/{self.world.values['camera']}", token=self.world.media_token_a)
        return out


def requests_for(spec: dict[str, Any], world: World, path: str, method: str, operation: dict[str, Any],
                 roles: list[str]) -> Iterator[Probe]:
    """The matrix requests of one operation: each role × variant (variants that send the same request once)."""
    sent: set[tuple[str, str, str]] = set()
    for role in roles:
        # Admins are platform-wide: B's things are theirs to see, except when they name city A.
        for variant in ("own",) if role == "admin" else ("b", "own"):
            filler = Filler(spec, world, variant)
            url, params, owned = path, {}, False
            for parameter in operation.get("parameters", []):
                name, where, schema = parameter["name"], parameter["in"], parameter.get("schema", {})
                if where == "path":
                    if name not in PATH_PARAMETERS:
                        raise Unclassified(f"{method.upper()} {path}: path parameter {name!r}; add it to PATH_PARAMETERS")
                    kind = PATH_PARAMETERS[name]
                    url = url.replace("{" + name + "}", world.values[kind.key])
                    url = url.replace("{" + name + ":path}", world.values[kind.key])
                    owned = owned or kind.owned
                elif where == "query":
                    if _looks_like_id(name, schema):
                        value = filler.id_value(name, schema)
                        params[name] = ",".join(value) if isinstance(value, list) else value
                    elif parameter.get("required"):
                        params[name] = str(filler.value(name, schema))
            body = None
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = filler.value("body", content["application/json"]["schema"])
            signature = (role, url + repr(sorted(params.items())), repr(body))
            if signature in sent:
                continue
            sent.add(signature)
            yield Probe(method.upper(), path, url, params, body, role, variant, owned)


def takes_tenant(spec: dict[str, Any], operation: dict[str, Any]) -> bool:
    """Whether the operation takes ``tenant_id`` as a query parameter or a body field (then admins are checked)."""
    if any(p["name"] == "tenant_id" and p["in"] == "query" for p in operation.get("parameters", [])):
        return True
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return False
    schema, _ = Filler(spec, World("", "", {}, ""), "own").resolve(content["schema"])
    return "tenant_id" in schema.get("properties", {})


LEAK, UNEXPECTED = "leak", "unexpected"


def judge(probe: Probe, status: int, text: str, world: World) -> tuple[str, str] | None:
    """None if the answer is fine, else (LEAK or UNEXPECTED, what is wrong with it)."""
    if status in REFUSALS:
        return None
    if 200 <= status < 300:
        if probe.owned_in_path:
            return LEAK, f"{status} for B's thing in the path"
        shown = [s for s in world.secrets_of_b if s in text]
        return (LEAK, f"{status} showing B's {shown[:3]}") if shown else None
    return UNEXPECTED, f"status {status}: {text[:200]}"
