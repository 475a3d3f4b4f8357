"""fetch / get_json against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json

import pytest
from httpserver import http_server  # noqa: F401 (pytest fixture)

from heron.errors import ResourceError
from heron.resources.download import fetch, get_json, sha256_of

BODY = b"chr1\t12345\tA\tG\n" * 4096  # 60 KB
FAST = dict(backoff=0.01, timeout=2.0)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_fetch_verifies_and_writes(http_server, tmp_path):
    http_server.add("/f.txt", BODY)
    digest = hashlib.sha256(BODY).hexdigest()
    out = fetch(http_server.url("/f.txt"), tmp_path / "sub" / "f.txt", sha256=digest,
                expected_size=len(BODY), **FAST)
    assert out.read_bytes() == BODY
    assert sha256_of(out) == digest
    assert _leftovers(out.parent) == []
    assert out.stat().st_mode & 0o044 == 0o044  # readable by the group and others


def test_500_then_success_is_retried(http_server, tmp_path):
    route = http_server.add("/flaky", BODY, fail_first=2, fail_status=503)
    out = fetch(http_server.url("/flaky"), tmp_path / "f", retries=3, **FAST)
    assert out.read_bytes() == BODY
    assert route.hits == 3


def test_5xx_exhausts_retries(http_server, tmp_path):
    route = http_server.add("/down", BODY, fail_first=100)
    with pytest.raises(ResourceError, match=r"after 3 attempts: HTTP 500"):
        fetch(http_server.url("/down"), tmp_path / "f", retries=2, **FAST)
    assert route.hits == 3
    assert list(tmp_path.iterdir()) == []


def test_4xx_is_not_retried(http_server, tmp_path):
    with pytest.raises(ResourceError, match=r"HTTP 404 .*check the URL"):
        fetch(http_server.url("/missing"), tmp_path / "f", retries=3, **FAST)
    assert http_server.log == ["/missing"]


def test_timeout_then_success(http_server, tmp_path):
    route = http_server.add("/slow", BODY, delay=1.0, delay_first=1)
    out = fetch(http_server.url("/slow"), tmp_path / "f", timeout=0.3, retries=2, backoff=0.01)
    assert out.read_bytes() == BODY
    assert route.hits == 2


def test_timeout_keeps_existing_file(http_server, tmp_path):
    http_server.add("/slow", BODY, delay=1.0)
    dest = tmp_path / "f"
    dest.write_bytes(b"previous release")
    with pytest.raises(ResourceError, match=r"/slow after 2 attempts: .*Timeout"):
        fetch(http_server.url("/slow"), dest, timeout=0.2, retries=1, backoff=0.01)
    assert dest.read_bytes() == b"previous release"
    assert _leftovers(tmp_path) == []


def test_truncated_body_fails_on_size(http_server, tmp_path):
    route = http_server.add("/cut", BODY, truncate_to=1000)
    dest = tmp_path / "f"
    dest.write_bytes(b"previous release")
    with pytest.raises(ResourceError, match=r"/cut after 2 attempts: .*(broke off|announced)"):
        fetch(http_server.url("/cut"), dest, retries=1, **FAST)
    assert route.hits == 2
    assert dest.read_bytes() == b"previous release"
    assert _leftovers(tmp_path) == []


def test_expected_size_without_content_length(http_server, tmp_path):
    http_server.add("/nolen", BODY[:500], send_length=False)
    with pytest.raises(ResourceError, match=rf"received 500 bytes, expected {len(BODY)}"):
        fetch(http_server.url("/nolen"), tmp_path / "f", expected_size=len(BODY), **FAST)
    assert list(tmp_path.iterdir()) == []


def test_checksum_mismatch(http_server, tmp_path):
    http_server.add("/f", BODY)
    with pytest.raises(ResourceError, match=r"sha256 .* does not match"):
        fetch(http_server.url("/f"), tmp_path / "f", sha256="0" * 64, **FAST)
    assert list(tmp_path.iterdir()) == []
    assert len(http_server.log) == 1  # a wrong checksum is final, not retried


def test_local_path_and_file_url(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(BODY)
    digest = hashlib.sha256(BODY).hexdigest()
    assert fetch(str(src), tmp_path / "a", sha256=digest).read_bytes() == BODY
    assert fetch(src.as_uri(), tmp_path / "b", sha256=digest).read_bytes() == BODY
    with pytest.raises(ResourceError, match="no such file"):
        fetch(str(tmp_path / "absent"), tmp_path / "c")
    with pytest.raises(ResourceError, match="sha256"):
        fetch(str(src), tmp_path / "d", sha256="1" * 64)
    assert not (tmp_path / "d").exists()


def test_get_json_retries_and_decodes(http_server):
    route = http_server.add("/api/x/", json.dumps({"a": [1, 2]}), fail_first=1,
                            content_type="application/json")
    assert get_json(http_server.url("/api/x/"), **FAST) == {"a": [1, 2]}
    assert route.hits == 2


def test_get_json_invalid_body(http_server):
    http_server.add("/api/bad/", "<html>proxy error</html>", content_type="text/html")
    with pytest.raises(ResourceError, match=r"/api/bad/ after 2 attempts: .*not valid JSON"):
        get_json(http_server.url("/api/bad/"), retries=1, **FAST)


def test_connection_refused(tmp_path):
    with pytest.raises(ResourceError, match=r"after 2 attempts: ConnectionError"):
        fetch("http://127.0.0.1:9/x", tmp_path / "f", retries=1, **FAST)
