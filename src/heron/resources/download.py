"""Robust HTTP downloads for reference resources.

Every download retries transient failures (connection errors, timeouts, a body cut short,
HTTP 5xx and 429) with exponential backoff, never retries other 4xx answers, streams into a
temporary file beside the destination, checks the size and checksum, and only then renames
the file into place. A failure leaves no partial file and never touches an existing file at
the destination. A local path (or ``file://`` URL) is accepted wherever a URL is, so an
offline site can hand heron files it fetched itself.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

from heron.errors import ResourceError
from heron.lazy import requests  # loaded by the first download: most jobs never download
from heron.staging import staging_file

CHUNK_BYTES = 1 << 20
_RETRY_STATUS = 429  # rate limiting is transient; every other 4xx is final
_T = TypeVar("_T")


class _Transient(Exception):
    """A failure worth another attempt."""


def _local_path(url: str) -> Path | None:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    return Path(url) if parsed.scheme == "" else None


def sha256_of(path: Path) -> str:
    """Hex sha256 digest of a file, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _with_retries(url: str, attempt: Callable[[], _T], retries: int, backoff: float) -> _T:
    """Run ``attempt`` up to ``retries + 1`` times; sleep backoff * 2**i between tries."""
    for i in range(retries):
        try:
            return attempt()
        except _Transient:
            time.sleep(backoff * (2 ** i))
    try:
        return attempt()
    except _Transient as exc:
        raise ResourceError(
            f"could not download {url} after {retries + 1} attempts: {exc} — check the "
            "network and that the server is up, then retry; or download the file yourself "
            "and give heron its local path"
        ) from exc


def _check_status(url: str, response: requests.Response) -> None:
    code = response.status_code
    if code >= 400:
        response.close()
    if code >= 500 or code == _RETRY_STATUS:
        raise _Transient(f"HTTP {code} {response.reason}")
    if code >= 400:
        raise ResourceError(
            f"could not download {url}: HTTP {code} {response.reason} — check the URL in the "
            "configuration (the release or path may have moved)"
        )


def _request(session: requests.Session, url: str, timeout: float, **kwargs) -> requests.Response:
    try:
        response = session.get(url, timeout=timeout, **kwargs)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise _Transient(f"{type(exc).__name__}: {exc}") from exc
    except requests.RequestException as exc:
        raise ResourceError(f"could not download {url}: {exc} — check the URL") from exc
    _check_status(url, response)
    return response


def _verify(url: str, path: Path, size: int, sha256: str | None,
            expected_size: int | None, header_size: int | None) -> None:
    if header_size is not None and size != header_size:
        raise _Transient(f"received {size} bytes but the server announced {header_size}")
    if expected_size is not None and size != expected_size:
        raise ResourceError(
            f"{url}: received {size} bytes, expected {expected_size} — the file is truncated "
            "or has changed upstream; retry, or update the expected size"
        )
    if sha256 is not None:
        got = sha256_of(path)
        if got != sha256.lower():
            raise ResourceError(
                f"{url}: sha256 {got} does not match the expected {sha256.lower()} — the file is "
                "corrupt or has changed upstream; retry, or update the expected checksum"
            )


def fetch(url: str, dest: str | Path, *, sha256: str | None = None,
          expected_size: int | None = None, timeout: float = 30.0, retries: int = 3,
          backoff: float = 0.5, session: requests.Session | None = None) -> Path:
    """Download ``url`` to ``dest`` atomically and return ``dest``.

    url: http(s) URL, ``file://`` URL or local path. sha256: expected hex digest; expected_size:
    expected byte count (both optional; the server's Content-Length is always checked).
    timeout: seconds to wait for the connection and for each read. retries: extra attempts
    after the first for transient failures; backoff: first pause in seconds, doubled each time.
    Raises ResourceError naming the URL and what to do; ``dest`` is then left as it was.
    """
    dest = Path(dest)
    handle, tmp = staging_file(dest.parent, prefix=f".{dest.name}.", suffix=".part")
    os.close(handle)
    try:
        local = _local_path(url)
        if local is not None:
            _copy_local(url, local, tmp, sha256, expected_size)
        else:
            own = session is None
            sess = session or requests.Session()
            try:
                _with_retries(url, lambda: _stream(sess, url, tmp, sha256, expected_size, timeout),
                              retries, backoff)
            finally:
                if own:
                    sess.close()
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _copy_local(url: str, local: Path, tmp: Path, sha256: str | None,
                expected_size: int | None) -> None:
    if not local.is_file():
        raise ResourceError(f"{local}: no such file — check the path given for this resource")
    shutil.copyfile(local, tmp)
    _verify(url, tmp, tmp.stat().st_size, sha256, expected_size, None)


def _stream(session: requests.Session, url: str, tmp: Path, sha256: str | None,
            expected_size: int | None, timeout: float) -> None:
    response = _request(session, url, timeout, stream=True)
    with response:
        announced = response.headers.get("Content-Length")
        # A transfer-encoded (compressed) body is decoded on the fly, so its length differs
        # from Content-Length; only compare when the bytes are stored as sent.
        header_size = (int(announced) if announced and announced.isdigit()
                       and "Content-Encoding" not in response.headers else None)
        size = 0
        try:
            with open(tmp, "wb") as out:
                for chunk in response.iter_content(CHUNK_BYTES):
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError) as exc:
            raise _Transient(f"transfer broke off after {size} bytes ({type(exc).__name__})") from exc
    _verify(url, tmp, size, sha256, expected_size, header_size)


def get_json(url: str, *, params: dict[str, Any] | None = None, timeout: float = 30.0,
             retries: int = 3, backoff: float = 0.5,
             session: requests.Session | None = None) -> Any:
    """GET ``url`` and decode its JSON body, with the retry policy of :func:`fetch`.

    A body that is not valid JSON is treated as transient (proxies and overloaded servers
    answer 200 with an HTML error page). Raises ResourceError naming the URL.
    """
    own = session is None
    sess = session or requests.Session()

    def attempt() -> Any:
        response = _request(sess, url, timeout, params=params,
                            headers={"Accept": "application/json"})
        try:
            return response.json()
        except (ValueError, requests.exceptions.ChunkedEncodingError,
                requests.ConnectionError) as exc:
            raise _Transient(f"the answer is not valid JSON ({exc})") from exc

    try:
        return _with_retries(url, attempt, retries, backoff)
    finally:
        if own:
            sess.close()
