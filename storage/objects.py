"""Object storage behind one interface: any S3-protocol server (MinIO) or a local directory.

Both backends pass the same contract tests. Methods are blocking (the minio
client is); async callers run them with ``asyncio.to_thread``.

Configured by URL:
- ``s3://ACCESS:SECRET@host:port/bucket?secure=false&region=us-east-1``
- ``file:///absolute/dir`` — presigned GETs are served by the API's
  ``/api/v1/objects/...`` route, which checks the HMAC signature.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import parse_qs, quote, unquote, urlsplit

import certifi
import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from domain.settings import Settings


class ObjectNotFound(KeyError):
    """No object at that key."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...
    # ``path`` must not change afterwards (a closed spool chunk): a directory store links rather than copies it.
    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None: ...
    def get(self, key: str) -> bytes: ...
    def get_range(self, key: str, offset: int, length: int) -> bytes: ...
    def stat(self, key: str) -> ObjectInfo | None: ...
    def list_prefix(self, prefix: str) -> Iterator[ObjectInfo]: ...
    def delete_many(self, keys: Iterable[str]) -> list[str]: ...
    def presigned_get(self, key: str, expires: timedelta) -> str: ...


def check_key(key: str) -> str:
    """Reject keys that could escape a directory or confuse a listing."""
    if not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise ValueError(f"bad object key {key!r}")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"bad object key {key!r}")
    return key


# The minio client's own defaults wait 5 minutes on a silent socket and retry 5 times per call. A caller
# here (the spool uploader, a clip export) has its own retry loop and an owner that stops it, so one call
# gives up soon: a server that went quiet mid-request costs seconds, not a stuck thread at shutdown.
_CONNECT_TIMEOUT_S = 5.0
_READ_TIMEOUT_S = 30.0
_RETRIES = urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504])


def _http_client(secure: bool) -> urllib3.PoolManager:
    timeout = urllib3.Timeout(connect=_CONNECT_TIMEOUT_S, read=_READ_TIMEOUT_S)
    if not secure:
        return urllib3.PoolManager(timeout=timeout, retries=_RETRIES, maxsize=10)
    return urllib3.PoolManager(timeout=timeout, retries=_RETRIES, maxsize=10, cert_reqs="CERT_REQUIRED",
                               ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where())


class S3ObjectStore:
    """An S3-protocol bucket through the ``minio`` client."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str, *,
                 secure: bool = False, region: str | None = None) -> None:
        self._client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region,
                             http_client=_http_client(secure))
        self.bucket = bucket

    def ensure_bucket(self) -> None:
        if not self._client.bucket_exists(self.bucket):
            self._client.make_bucket(self.bucket)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._client.put_object(self.bucket, check_key(key), io.BytesIO(data), len(data), content_type=content_type)

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        """Upload a file without reading it into memory (multipart for large files)."""
        self._client.fput_object(self.bucket, check_key(key), str(path), content_type=content_type)

    def _read(self, key: str, offset: int = 0, length: int = 0) -> bytes:
        try:
            response = self._client.get_object(self.bucket, check_key(key), offset=offset, length=length)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise ObjectNotFound(key) from None
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def get(self, key: str) -> bytes:
        return self._read(key)

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0:
            raise ValueError("range needs offset >= 0 and length > 0")
        return self._read(key, offset, length)

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            info = self._client.stat_object(self.bucket, check_key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return None
            raise
        return ObjectInfo(key, info.size or 0)

    def list_prefix(self, prefix: str) -> Iterator[ObjectInfo]:
        for obj in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
            if obj.object_name is not None:
                yield ObjectInfo(obj.object_name, obj.size or 0)

    def delete_many(self, keys: Iterable[str]) -> list[str]:
        """Delete in batches; return the keys that failed. Missing keys are not failures."""
        failed: list[str] = []
        batch: list[DeleteObject] = []
        for key in keys:
            batch.append(DeleteObject(check_key(key)))
            if len(batch) == 1000:
                failed += self._delete_batch(batch)
                batch = []
        if batch:
            failed += self._delete_batch(batch)
        return failed

    def _delete_batch(self, batch: list[DeleteObject]) -> list[str]:
        # remove_objects is lazy: nothing is deleted until its result is iterated.
        return [err.name for err in self._client.remove_objects(self.bucket, batch) if err.name]

    def presigned_get(self, key: str, expires: timedelta) -> str:
        return self._client.presigned_get_object(self.bucket, check_key(key), expires=expires)


class DirObjectStore:
    """Objects as files under a directory: the embedded default for one machine.

    Writes go to a temporary file that is fsynced and renamed, so a crash never
    leaves a truncated object under its final key.
    """

    def __init__(self, root: Path, *, public_base_url: str, signing_secret: bytes) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._base_url = public_base_url.rstrip("/")
        self._secret = signing_secret

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._write_atomically(key, lambda f: f.write(data))

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        """Store a closed file that is never written again (a spooled chunk): linked where it lies on the same
        file system, so its bytes are neither read nor written a second time; copied otherwise."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        link = target.parent / f".tmp-{secrets.token_hex(8)}"
        try:
            os.link(path, link)
        except OSError:  # another file system (EXDEV), or one without hard links
            with path.open("rb") as source:
                self._write_atomically(key, lambda f: shutil.copyfileobj(source, f, 1024 * 1024))
            return
        try:
            with link.open("rb") as linked:
                os.fsync(linked.fileno())  # durable before it is visible, as every object written here
            os.replace(link, target)
        except BaseException:
            link.unlink(missing_ok=True)
            raise

    def _write_atomically(self, key: str, write: Callable[[BinaryIO], object]) -> None:
        """Readers see the whole object or none: write a temporary file, fsync, rename."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(key) from None

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0:
            raise ValueError("range needs offset >= 0 and length > 0")
        try:
            with self._path(key).open("rb") as f:
                f.seek(offset)
                return f.read(length)
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(key) from None

    def stat(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        return ObjectInfo(key, path.stat().st_size) if path.is_file() else None

    def list_prefix(self, prefix: str) -> Iterator[ObjectInfo]:
        # Walk only the deepest directory the prefix names, not the whole store.
        directory = self.root / prefix.rpartition("/")[0] if "/" in prefix else self.root
        if not directory.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(directory):
            dirnames.sort()
            for name in sorted(filenames):
                if name.startswith(".tmp-"):
                    continue
                path = Path(dirpath) / name
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield ObjectInfo(key, path.stat().st_size)

    def delete_many(self, keys: Iterable[str]) -> list[str]:
        failed: list[str] = []
        for key in keys:
            try:
                self._path(key).unlink(missing_ok=True)
            except OSError:
                failed.append(key)
        return failed

    def _signature(self, key: str, expires_at: int) -> str:
        return hmac.new(self._secret, f"{key}\n{expires_at}".encode(), hashlib.sha256).hexdigest()

    def presigned_get(self, key: str, expires: timedelta) -> str:
        expires_at = int(time.time() + expires.total_seconds())
        signature = self._signature(check_key(key), expires_at)
        return f"{self._base_url}/{quote(key)}?expires={expires_at}&signature={signature}"

    def verify_signature(self, key: str, expires_at: int, signature: str) -> bool:
        if expires_at < time.time():
            return False
        return hmac.compare_digest(self._signature(key, expires_at), signature)


def open_object_store(url: str, *, public_base_url: str = "", signing_secret: bytes = b"") -> S3ObjectStore | DirObjectStore:
    """Open the store a URL names (see the module docstring)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return DirObjectStore(Path(unquote(parts.path)), public_base_url=public_base_url, signing_secret=signing_secret)
    if parts.scheme == "s3":
        query = parse_qs(parts.query)
        bucket = parts.path.strip("/")
        if not bucket or "/" in bucket or not parts.hostname:
            raise ValueError("s3 URL must be s3://ACCESS:SECRET@host:port/bucket")
        endpoint = parts.hostname + (f":{parts.port}" if parts.port else "")
        store = S3ObjectStore(
            endpoint, unquote(parts.username or ""), unquote(parts.password or ""), bucket,
            secure=query.get("secure", ["false"])[0].lower() in ("1", "true", "yes"),
            region=query.get("region", [None])[0],
        )
        store.ensure_bucket()
        return store
    raise ValueError(f"unsupported object store URL scheme {parts.scheme!r}: use s3:// or file://")


OBJECTS_ROUTE = "/api/v1/objects"  # where the API serves a directory store's presigned GETs


def open_object_store_for(settings: Settings) -> S3ObjectStore | DirObjectStore:
    """The deployment's object store, presigning directory-store URLs for the API's objects route."""
    return open_object_store(settings.object_store_url, public_base_url=f"{settings.public_url}{OBJECTS_ROUTE}",
                             signing_secret=settings.key("objects"))
