"""Settings: precedence, validation messages naming the key, and the generated reference page."""

from __future__ import annotations

from pathlib import Path

import pytest

from socle import config_doc
from socle.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("SOCLE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_embedded() -> None:
    settings = load_settings()
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.redis_url is None
    assert "chat-default" in settings.routing.catalog().models


def test_env_beats_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "socle.yaml"
    path.write_text("server:\n  port: 9000\n  workers: 2\n")
    assert load_settings(path).server.port == 9000
    monkeypatch.setenv("SOCLE_SERVER__PORT", "9100")
    settings = load_settings(path)
    assert settings.server.port == 9100
    assert settings.server.workers == 2
    monkeypatch.setenv("SOCLE_CONFIG", str(path))
    assert load_settings().server.workers == 2


def test_errors_name_every_bad_key(tmp_path: Path) -> None:
    path = tmp_path / "socle.yaml"
    path.write_text("server:\n  port: 0\n  colour: blue\nredis_url: http://x\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert "server.port" in message
    assert "server.colour" in message
    assert "redis_url" in message
    assert str(path) in message


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "socle.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(path)


def test_instance_secret_is_created_once_and_private(tmp_path: Path) -> None:
    settings = load_settings(None, home=tmp_path / "home")
    first = settings.instance_secret()
    assert first == settings.instance_secret()
    assert len(first) >= 64
    assert (tmp_path / "home" / "secret.key").stat().st_mode & 0o077 == 0


def test_configuration_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == config_doc.render(), (
        "run: python -m socle.config_doc > docs/configuration.md"
    )
