from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings, SettingsFileError


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("s.toml", "max_body_bytes = 2048\nlog_level = 'debug'\n"),
        ("s.yaml", "max_body_bytes: 2048\nlog_level: debug\n"),
        ("s.json", '{"max_body_bytes": 2048, "log_level": "debug"}'),
    ],
)
def test_settings_come_from_the_file_in_each_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str
) -> None:
    (tmp_path / name).write_text(text)
    monkeypatch.setenv("AKAR_SETTINGS_FILE", str(tmp_path / name))
    settings = Settings()
    assert (settings.max_body_bytes, settings.log_level) == (2048, "debug")


def test_environment_variables_override_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "s.toml").write_text("max_body_bytes = 2048\n")
    monkeypatch.setenv("AKAR_SETTINGS_FILE", str(tmp_path / "s.toml"))
    monkeypatch.setenv("AKAR_MAX_BODY_BYTES", "4096")
    assert Settings().max_body_bytes == 4096


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("s.toml", "max_body_byte = 1\n", "unknown settings ['max_body_byte']"),
        ("s.toml", "max_body_bytes = \n", "s.toml"),
        ("s.ini", "max_body_bytes = 1\n", "use .toml, .yaml, .yml or .json"),
        ("s.yaml", "- a\n- b\n", "expected a table of settings"),
        ("missing.toml", None, "missing.toml"),
    ],
)
def test_a_bad_settings_file_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str | None, message: str
) -> None:
    if text is not None:
        (tmp_path / name).write_text(text)
    monkeypatch.setenv("AKAR_SETTINGS_FILE", str(tmp_path / name))
    with pytest.raises(SettingsFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Settings()
