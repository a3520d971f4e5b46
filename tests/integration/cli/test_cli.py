"""The ``socle`` command on a real SQLite database: exit codes, messages, idempotent errors."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from socle.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SOCLE_CONFIG", "SOCLE_DATABASE_URL", "SOCLE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOCLE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_help_everywhere() -> None:
    for command in ([], ["keys"], ["keys", "create"], ["config", "check"], ["serve"], ["audit"]):
        code, output = invoke(*command, "--help")
        assert code == 0, output
        assert "Usage" in output


def test_init_writes_a_valid_commented_config(tmp_path: Path) -> None:
    code, output = invoke("init")
    assert code == 0, output
    text = (tmp_path / "socle.yaml").read_text()
    assert text.count("#") > 20
    code, output = invoke("config", "check", "--config", "socle.yaml")
    assert code == 0, output
    assert "valid" in output
    code, output = invoke("init")
    assert code == 2 and "already exists" in output


def test_config_check_names_the_bad_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("server:\n  port: 99999\naudit:\n  mode: sometimes\n")
    code, output = invoke("config", "check", "--config", str(bad))
    assert code == 2
    assert "server.port" in output
    assert "audit.mode" in output
    bad.write_text("routing: [unclosed\n")
    code, output = invoke("config", "check", "--config", str(bad))
    assert code == 2 and "not valid YAML" in output
    code, output = invoke("config", "check", "--config", str(tmp_path / "missing.yaml"))
    assert code == 2 and "not found" in output


def test_env_overrides_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCLE_DATABASE_URL", "mysql://nope")
    code, output = invoke("config", "check")
    assert code == 2 and "database_url" in output


def test_identity_commands_and_exit_codes() -> None:
    assert invoke("orgs", "create", "acme")[0] == 0
    code, output = invoke("orgs", "create", "acme")
    assert code == 4 and "already exists" in output
    assert invoke("teams", "create", "data", "--org", "acme")[0] == 0
    code, output = invoke("projects", "create", "bot", "--org", "acme", "--team", "data")
    assert code == 0, output
    code, output = invoke("projects", "create", "x", "--org", "nowhere")
    assert code == 3 and "not found" in output
    code, output = invoke("projects", "create", "y", "--org", "acme", "--settings", "[1]")
    assert code == 2

    code, output = invoke("keys", "create", "app", "--project", "bot", "-m", "chat-default")
    assert code == 0, output
    key = output.strip().splitlines()[-1]
    assert key.startswith("sk-socle-")

    code, output = invoke("keys", "list", "--project", "bot", "--format", "json")
    assert code == 0
    listed = orjson.loads(output)
    assert len(listed) == 1 and listed[0]["allowed_models"] == ["chat-default"]
    assert key not in output  # never the secret

    code, output = invoke("keys", "create", "bad", "--project", "bot", "--role", "god")
    assert code == 2 and "unknown role" in output
    code, output = invoke("keys", "create", "bad", "--project", "bot", "--expires", "tomorrow")
    assert code == 2 and "ISO 8601" in output

    assert invoke("keys", "revoke", listed[0]["id"])[0] == 0
    code, output = invoke("keys", "revoke", "key_missing")
    assert code == 3
    code, output = invoke("keys", "list", "--format", "csv")
    assert code == 0 and output.startswith("id,name")
    code, output = invoke("keys", "list", "--format", "xml")
    assert code == 2


def test_models_list() -> None:
    code, output = invoke("models", "list")
    assert code == 0
    assert "chat-default" in output and "simulator" in output
