from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

ADMIN = {"Authorization": "Bearer admin-secret"}


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Source:
    """A settings source a test can change between reloads (as the environment would)."""

    def __init__(self, **values: Any) -> None:
        self.values = values

    def __call__(self) -> Settings:
        return Settings(**self.values)


@pytest.fixture
def source(tiny_model_dir: Path, tmp_path: Path) -> Source:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: p1\n")
    return Source(
        model_dir=tiny_model_dir, policy_path=policy, admin_key_sha256=[sha("admin-secret")]
    )


@pytest.fixture
def client(source: Source) -> Iterator[TestClient]:
    with TestClient(create_app(settings_source=source)) as c:
        yield c


def test_reload_swaps_in_a_new_policy(client: TestClient, source: Source) -> None:
    Path(str(source.values["policy_path"])).write_text("version: p2\nmode: shadow\n")
    r = client.post("/v1/admin/reload", headers=ADMIN)
    assert r.status_code == 200
    assert r.json()["policy_version"] == "p2"
    assert r.json()["previous_model_version"] == "tiny-1"
    assert client.get("/v1/policy").json()["mode"] == "shadow"


def test_reload_swaps_in_a_new_model(
    client: TestClient, source: Source, tiny_model_dir: Path, tmp_path: Path
) -> None:
    copy = Path(shutil.copytree(tiny_model_dir, tmp_path / "m2"))
    manifest = copy / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"tiny-1"', '"tiny-2"'))
    source.values["model_dir"] = copy
    assert client.post("/v1/admin/reload", headers=ADMIN).json()["model_version"] == "tiny-2"
    assert client.get("/v1/model").json()["version"] == "tiny-2"


def test_a_failed_reload_keeps_the_old_model_and_says_why(
    client: TestClient, source: Source, tiny_model_dir: Path, tmp_path: Path
) -> None:
    bad = Path(shutil.copytree(tiny_model_dir, tmp_path / "bad"))
    with (bad / "serving.npz").open("ab") as f:
        f.write(b"tampered")
    source.values["model_dir"] = bad
    r = client.post("/v1/admin/reload", headers=ADMIN)
    assert r.status_code == 500
    assert r.json()["code"] == "RELOAD_FAILED"
    assert "refusing to load it" in r.json()["detail"]
    assert "still serving tiny-1" in r.json()["detail"]
    assert client.get("/readyz").json()["model_version"] == "tiny-1"
    assert client.post("/v1/screen", json={"title": "kopi"}).status_code == 200


def test_reload_needs_an_admin_key(client: TestClient) -> None:
    assert client.post("/v1/admin/reload").status_code == 401
    assert (
        client.post("/v1/admin/reload", headers={"Authorization": "Bearer wrong"}).status_code
        == 403
    )


def test_keys_rotate_on_reload_without_a_restart(client: TestClient, source: Source) -> None:
    source.values["api_key_sha256"] = [sha("new-key")]
    assert client.post("/v1/screen", json={"title": "kopi"}).status_code == 200  # still open
    client.post("/v1/admin/reload", headers=ADMIN)
    assert client.post("/v1/screen", json={"title": "kopi"}).status_code == 401
    ok = client.post(
        "/v1/screen", json={"title": "kopi"}, headers={"Authorization": "Bearer new-key"}
    )
    assert ok.status_code == 200


def test_requests_during_reloads_all_succeed_with_valid_answers(
    client: TestClient, source: Source
) -> None:
    policy = Path(str(source.values["policy_path"]))

    def screen(i: int) -> tuple[int, str]:
        if i % 2:
            r = client.post(
                "/v1/screen/batch",
                json={"listings": [{"title": "kemeja batik"}, {"title": "kopi"}]},
            )
            body = r.json()["results"][0] if r.status_code == 200 else {}
        else:
            r = client.post("/v1/screen", json={"title": "celana jeans pria import"})
            body = r.json() if r.status_code == 200 else {}
        return r.status_code, body.get("policy_version", "")

    def reload(i: int) -> int:
        # Replaced atomically, as a deployment swaps a ConfigMap: a reload never reads half.
        tmp = policy.with_name(f"policy-{i}.yaml")
        tmp.write_text(f"version: r{i}\n")
        tmp.replace(policy)
        return client.post("/v1/admin/reload", headers=ADMIN).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        screens = [pool.submit(screen, i) for i in range(120)]
        reloads = [pool.submit(reload, i) for i in range(10)]
        results = [f.result() for f in screens]
        assert [f.result() for f in reloads] == [200] * 10
    assert all(status == 200 for status, _ in results)
    assert all(version == "p1" or version.startswith("r") for _, version in results)


def _metric(client: TestClient, name: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    text = client.get("/metrics").text
    return sum(
        s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name
    )


def test_reloads_are_counted_in_the_metrics(
    client: TestClient, source: Source, tmp_path: Path
) -> None:
    assert _metric(client, "akar_model_loads_total") == 1
    client.post("/v1/admin/reload", headers=ADMIN)
    assert _metric(client, "akar_model_loads_total") == 2
    source.values["model_dir"] = tmp_path / "absent"
    assert client.post("/v1/admin/reload", headers=ADMIN).status_code == 500
    assert _metric(client, "akar_model_load_failures_total") == 1
    assert _metric(client, "akar_model_loads_total") == 2


def _copy(tiny_model_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_model_dir, tmp_path / "copy"))


def _rehash(model_dir: Path, name: str) -> None:
    """Writes the artifact's real sha256 into the manifest: corrupt, but matching its hash."""
    manifest = model_dir / "manifest.json"
    data = json.loads(manifest.read_text())
    key = "serving_sha256" if name == "serving.npz" else "artifact_sha256"
    data[key] = hashlib.sha256((model_dir / name).read_bytes()).hexdigest()
    manifest.write_text(json.dumps(data))


def _unreadable(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    # Root reads any file whatever its mode, so the refusal is the operating system's answer
    # made by hand.
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == target:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)


@pytest.mark.parametrize("fault", ["unreadable", "corrupt_with_matching_hash", "policy_not_utf8"])
def test_every_reload_fault_is_reload_failed_logged_and_counted(
    client: TestClient,
    source: Source,
    tiny_model_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    copy = _copy(tiny_model_dir, tmp_path)
    source.values["model_dir"] = copy
    if fault == "unreadable":
        _unreadable(monkeypatch, copy / "serving.npz")
    elif fault == "corrupt_with_matching_hash":
        (copy / "serving.npz").write_bytes(b"PK\x03\x04 not really a zip archive")
        _rehash(copy, "serving.npz")
    else:
        Path(str(source.values["policy_path"])).write_bytes(b"version: \xff\xfe\n")
    before = _metric(client, "akar_model_load_failures_total")
    r = client.post("/v1/admin/reload", headers=ADMIN)
    assert r.status_code == 500
    assert r.json()["code"] == "RELOAD_FAILED"
    assert "still serving tiny-1" in r.json()["detail"]
    assert _metric(client, "akar_model_load_failures_total") == before + 1
    assert any("reload failed" in rec.getMessage() for rec in caplog.records)
    assert client.post("/v1/screen", json={"title": "kemeja"}).status_code == 200


def test_the_loaded_bytes_are_the_hashed_bytes(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file replaced between the hash check and the load cannot be loaded unverified."""
    from app.screening import linear_file, store
    from app.screening.linear import LinearModel

    copy = _copy(tiny_model_dir, tmp_path)
    real_read = linear_file.read

    def read_after_a_swap(content: BinaryIO) -> LinearModel:
        (copy / "serving.npz").write_bytes(b"replaced after the check")
        return real_read(content)

    monkeypatch.setattr(linear_file, "read", read_after_a_swap)
    loaded = store.load_model(copy)
    assert loaded.version == "tiny-1"
    assert loaded.model.compiled


def test_a_bad_policy_at_start_up_leaves_the_process_up_and_not_ready(
    source: Source,
) -> None:
    Path(str(source.values["policy_path"])).write_bytes(b"version: \xff\xfe\n")
    source.values["require_model"] = False
    with TestClient(create_app(settings_source=source)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503
        assert "not UTF-8" in r.text


def test_keys_in_the_settings_file_rotate_on_reload(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default source: Settings re-read from the environment and AKAR_SETTINGS_FILE.
    settings_file = tmp_path / "akar.toml"

    def write(api_key: str) -> None:
        settings_file.write_text(
            f'model_dir = "{tiny_model_dir}"\n'
            f'api_key_sha256 = ["{sha(api_key)}"]\n'
            f'admin_key_sha256 = ["{sha("admin-secret")}"]\n'
        )

    write("old-key")
    monkeypatch.setenv("AKAR_SETTINGS_FILE", str(settings_file))
    with TestClient(create_app()) as c:

        def status(key: str) -> int:
            headers = {"Authorization": f"Bearer {key}"}
            return c.post("/v1/screen", json={"title": "kopi"}, headers=headers).status_code

        assert (status("old-key"), status("new-key")) == (200, 403)
        write("new-key")
        assert c.post("/v1/admin/reload", headers=ADMIN).status_code == 200
        assert (status("old-key"), status("new-key")) == (403, 200)
        settings_file.write_text("api_key_sha256 = 'not a list'\n")
        r = c.post("/v1/admin/reload", headers=ADMIN)
        assert r.status_code == 500 and r.json()["code"] == "RELOAD_FAILED"
        assert status("new-key") == 200  # the last good keys serve on
