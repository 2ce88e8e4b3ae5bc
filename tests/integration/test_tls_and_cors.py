"""``gtvision up --tls-cert --tls-key`` serves HTTPS and WSS; ``--cors-origin`` lets exactly those origins in."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.gtvision_process import gtvision, running_instance
from tests.support.ports import free_port

ALLOWED_ORIGIN = "https://vms.prefeitura.example.gov.br"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return cert_file, key_file


def _preflight(client: httpx.Client, origin: str) -> httpx.Response:
    return client.options("/cameras", headers={"Origin": origin, "Access-Control-Request-Method": "GET",
                                               "Access-Control-Request-Headers": "authorization"})


async def _websocket_opens(url: str, cert: Path) -> None:
    context = ssl.create_default_context(cafile=str(cert))
    async with websockets.connect(url, ssl=context, open_timeout=20):
        pass


def test_tls_serves_https_and_wss_and_cors_allows_only_the_listed_origin(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    port = free_port()
    extra = ("--demo-cameras", "0", "--tls-cert", str(cert), "--tls-key", str(key), "--cors-origin", ALLOWED_ORIGIN)
    with running_instance(tmp_path / "var", port, extra_args=extra, tls_cert=cert) as instance:
        health = httpx.get(f"https://127.0.0.1:{port}/api/v1/health", verify=str(cert), timeout=10)
        assert health.status_code == 200 and health.json()["status"] in ("ok", "degraded")
        assert f"https://127.0.0.1:{port}/api/v1" in instance.output(everything=True)
        try:  # plain HTTP on the TLS port gets no answer from the API
            assert httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5).status_code >= 400
        except httpx.HTTPError:
            pass

        token = instance.api.headers["authorization"].removeprefix("Bearer ")
        tenant = instance.api.get("/tenants").json()[0]["id"]
        asyncio.run(_websocket_opens(f"wss://127.0.0.1:{port}/api/v1/events?token={token}&tenant_id={tenant}", cert))

        allowed = _preflight(instance.api, ALLOWED_ORIGIN)
        assert allowed.headers.get("access-control-allow-origin") == ALLOWED_ORIGIN, allowed.headers
        refused = _preflight(instance.api, "https://evil.example.com")
        assert "access-control-allow-origin" not in refused.headers, refused.headers

        status = gtvision("status", "--var-dir", str(tmp_path / "var"), "--json")
        assert json.loads(status.stdout)["health"] in ("ok", "degraded"), status.stdout


def test_a_certificate_without_its_key_is_refused_at_once(tmp_path: Path) -> None:
    cert, _ = _self_signed(tmp_path)
    refused = gtvision("up", "--var-dir", str(tmp_path / "var"), "--port", str(free_port()), "--no-dashboard",
                       "--tls-cert", str(cert))
    assert refused.returncode == 2 and "--tls-key" in refused.stderr, refused
