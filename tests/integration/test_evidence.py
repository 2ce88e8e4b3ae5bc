"""Evidence that proves itself, on the real parts: a clip exported from real recorded chunks gets a signed
manifest beside it in the object store; the manifest verifies with the published key, offline (the verify
function and the real ``gtvision verify``), and one flipped byte — in the clip or in the manifest — fails it.
The purge report's PDF reads back with the city and its numbers, and its manifest verifies too.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import asyncpg
import pytest
from pypdf import PdfReader

from domain.clip_manifest import clip_manifest_key
from domain.clips import ClipJob
from domain.evidence import evidence_key
from domain.rbac import Role
from domain.recording import chunk_object_key
from domain.settings import Settings
from domain.tenant import Tenant
from services.clip_export import export_clip
from services.evidence_check import verify_document
from services.purge_pass import retention_pass
from storage import clips, recordings, tenants
from storage.objects import ObjectStore, open_object_store_for
from tests.support.asgi_api import running_api
from tests.support.sessions import access_headers, new_bearer
from tests.support.system import REDIS_URL, drop_redis_keys
from tests.unit.test_media import _record

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Exported:
    settings: Settings
    store: ObjectStore
    job: ClipJob
    headers: dict[str, str]
    clip: bytes
    tmp: Path


def _settings(database_url: str, tmp_path: Path, prefix: str) -> Settings:
    return Settings(database_url=database_url, object_store_url=(tmp_path / "objects").as_uri(),
                    public_url="http://127.0.0.1:1", secret=uuid.uuid4().hex, bus_url=f"{REDIS_URL}?prefix={prefix}",
                    spool_dir=str(tmp_path / "spool"))


async def _city_with_camera(pool: asyncpg.Pool, city_name: str, camera_name: str) -> tuple[Tenant, uuid.UUID]:
    """A new city with one disabled camera (its footage is written by the test, not recorded live)."""
    city = await tenants.create(pool, city_name)
    camera_id = uuid.uuid4()
    await pool.execute("INSERT INTO cameras (id, tenant_id, name, rtsp_url, enabled) VALUES ($1, $2, $3, $4, false)",
                       camera_id, city.id, camera_name, "rtsp://127.0.0.1:1/x")
    return city, camera_id


async def _progress(job: ClipJob, state: str, percent: float) -> None:
    return None


@pytest.fixture
async def exported(database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Exported]:
    """A clip of real recorded chunks of a camera of a new city, exported by its manager."""
    prefix = f"gtv-evidence-{uuid.uuid4().hex[:8]}:"
    settings = _settings(database_url, tmp_path, prefix)
    store = open_object_store_for(settings)
    city, camera_id = await _city_with_camera(pool, f"Niterói evidence {uuid.uuid4().hex[:6]}", "Praça Araribóia")
    chunks = [(replace(c.meta, tenant_id=city.id, camera_id=camera_id), c.data)
              for c in _record(tmp_path / "spool", loops=3, max_chunk_ms=4000)]
    for meta, data in chunks:
        store.put(meta.object_key, data)
        await recordings.insert(pool, meta)
    manager = await new_bearer(pool, Role.MANAGER, city.id)
    start, end = chunks[0][0].start, chunks[-1][0].end - timedelta(seconds=1)
    job = await clips.create(pool, city.id, camera_id, manager.principal.user_id, start, end)
    await export_clip(job, pool, store, tmp_path, _progress, evidence_key(settings))
    done = await clips.get(pool, city.id, job.id)
    assert done is not None and done.object_key is not None and done.state == "done"
    try:
        yield Exported(settings, store, done, access_headers(settings, manager), store.get(done.object_key), tmp_path)
    finally:
        await drop_redis_keys(prefix)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


async def test_a_clip_manifest_verifies_with_the_published_key_and_a_flipped_byte_does_not(
        exported: Exported, pool: asyncpg.Pool) -> None:
    async with running_api(exported.settings) as api:
        key = (await api.get("/api/v1/evidence-key")).json()  # public: no token
        served = await api.get(f"/api/v1/clips/{exported.job.id}/manifest", headers=exported.headers)
        assert (await api.get(f"/api/v1/clips/{exported.job.id}/manifest")).status_code == 401
    assert served.status_code == 200, served.text
    manifest = served.json()
    assert manifest == json.loads(exported.store.get(clip_manifest_key(exported.job.object_key or "")))
    doc = manifest["document"]
    assert doc["kind"] == "clip" and doc["sha256"] == exported.job.sha256 and doc["bytes"] == len(exported.clip)
    assert doc["camera"]["name"] == "Praça Araribóia" and doc["city"]["time_zone"] == "America/Sao_Paulo"
    assert doc["actual_range"]["start_local"].endswith("-03:00") and doc["actual_range"]["start_utc"].endswith("+00:00")
    assert doc["exported_by"]["username"].startswith("manager-") and manifest["key_id"] == key["key_id"]
    audit_hash: bytes = await pool.fetchval(
        "SELECT row_hash FROM audit_log WHERE action = 'clip.exported' AND detail->>'clip_id' = $1", str(exported.job.id))
    assert doc["audit_row_hash"] == audit_hash.hex(), "the manifest names the export's audit row"

    tmp = exported.tmp
    (tmp / "key.pem").write_text(key["public_key_pem"])
    (tmp / "clip.mp4").write_bytes(exported.clip)
    (tmp / "manifest.json").write_bytes(served.content)
    verdict = verify_document(tmp / "clip.mp4", tmp / "manifest.json", tmp / "key.pem")
    assert verdict.ok, verdict.lines
    assert any("Praça Araribóia" in line for line in verdict.lines)

    (tmp / "flipped.mp4").write_bytes(_flip(exported.clip, len(exported.clip) // 2))
    altered_clip = verify_document(tmp / "flipped.mp4", tmp / "manifest.json", tmp / "key.pem")
    assert not altered_clip.ok and "the file was altered" in altered_clip.lines[0]

    text = served.content
    at = text.index(b"Pra")  # a byte inside a signed value: still JSON, another camera name
    (tmp / "flipped.json").write_bytes(_flip(text, at))
    altered_manifest = verify_document(tmp / "clip.mp4", tmp / "flipped.json", tmp / "key.pem")
    assert not altered_manifest.ok and "signature does not match" in altered_manifest.lines[0]

    good = await asyncio.to_thread(gtvision_verify, tmp / "clip.mp4", tmp / "manifest.json", tmp / "key.pem")
    assert good.returncode == 0 and good.stdout.startswith("VERIFIED") and "Praça Araribóia" in good.stdout, good
    bad = await asyncio.to_thread(gtvision_verify, tmp / "flipped.mp4", tmp / "manifest.json", tmp / "key.pem")
    assert bad.returncode == 1 and bad.stdout.startswith("NOT VERIFIED") and "altered" in bad.stdout, bad


def gtvision_verify(file: Path, manifest: Path, key: Path) -> subprocess.CompletedProcess[str]:
    """The real command line, in a process of its own."""
    return subprocess.run([sys.executable, "-m", "runtime.cli", "verify", str(file), str(manifest), "--public-key",
                           str(key)], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


async def test_the_purge_report_pdf_reads_back_with_the_city_and_numbers_and_its_manifest_verifies(
        database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> None:
    prefix = f"gtv-evidence-{uuid.uuid4().hex[:8]}:"
    settings = _settings(database_url, tmp_path, prefix)
    store = open_object_store_for(settings)
    city, camera_id = await _city_with_camera(pool, f"São Gonçalo {uuid.uuid4().hex[:6]}", "Rodoviária")
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=40)
    for i in range(7):
        key = chunk_object_key(city.id, camera_id, old + timedelta(minutes=i))
        store.put(key, b"old footage")
        await pool.execute(
            "INSERT INTO recordings (tenant_id, camera_id, time_range, object_key, bytes, init_length, codec, width,"
            " height, fragments) VALUES ($1, $2, tstzrange($3, $4), $5, 1234, 10, 'h264', 640, 360, '[]')",
            city.id, camera_id, old + timedelta(minutes=i), old + timedelta(minutes=i + 1), key)
    result = await retention_pass(pool, store, trigger="test")
    manager = access_headers(settings, await new_bearer(pool, Role.MANAGER, city.id))
    report_url = f"/api/v1/retention/passes/{result.pass_id}/report"
    try:
        async with running_api(settings) as api:
            pdf = await api.get(f"{report_url}.pdf", headers=manager)
            again = await api.get(f"{report_url}.pdf", headers=manager)
            manifest = await api.get(f"{report_url}.pdf.manifest", headers=manager)
            key = (await api.get("/api/v1/evidence-key")).json()
            viewer = access_headers(settings, await new_bearer(pool, Role.VIEWER, city.id))
            assert (await api.get(f"{report_url}.pdf", headers=viewer)).status_code == 403
    finally:
        await drop_redis_keys(prefix)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf", pdf.text
    assert pdf.content == again.content, "the same report gives the same bytes"
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf.content)).pages)
    assert "Relatório de expurgo" in text and city.name in text and "Rodoviária" in text
    assert "7 segmentos, 8638 bytes" in text, text
    assert manifest.status_code == 200 and manifest.json()["document"]["kind"] == "purge_report"
    assert manifest.json()["document"]["totals"]["chunks"] == 7
    (tmp_path / "report.pdf").write_bytes(pdf.content)
    (tmp_path / "report.json").write_bytes(manifest.content)
    (tmp_path / "key.pem").write_text(key["public_key_pem"])
    verdict = verify_document(tmp_path / "report.pdf", tmp_path / "report.json", tmp_path / "key.pem")
    assert verdict.ok, verdict.lines
    (tmp_path / "altered.pdf").write_bytes(_flip(pdf.content, len(pdf.content) // 2))
    assert not verify_document(tmp_path / "altered.pdf", tmp_path / "report.json", tmp_path / "key.pem").ok
