"""``socle usage report`` and ``socle usage budgets`` against a real SQLite database."""

from __future__ import annotations

import csv
import io
import time
from datetime import date
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from socle.accounting.journal import UsageTotals
from socle.accounting.persistence import AccountingStore
from socle.cli.usage import app
from socle.store.database import Database
from tests.unit.accounting.acct_support import create_tables, sqlite_url


@pytest.fixture
async def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = Database(sqlite_url(tmp_path))
    await create_tables(database)
    store = AccountingStore(database)
    await store.ensure_meta()
    day = date(2026, 11, 5)
    usage = {
        (day, "o1", "t1", "p1", "k1", "chat", "d1"): UsageTotals(
            requests=10,
            errors=1,
            prompt_tokens=1000,
            completion_tokens=500,
            cost_nano=2_500_000_000,
            energy_kwh=0.01,
            co2e_g=0.6,
            temperature_sum=2.0,
            temperature_count=10,
        ),
        (day, "o1", "t2", "p2", "k2", "chat", "d1"): UsageTotals(
            requests=4, prompt_tokens=100, completion_tokens=50, cost_nano=500_000_000
        ),
        (date(2026, 10, 31), "o1", "t1", "p1", "k1", "chat", "d1"): UsageTotals(requests=99),
    }
    await store.flush({}, usage, time.time())
    await database.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOCLE_CONFIG", raising=False)
    monkeypatch.setenv("SOCLE_HOME", str(tmp_path))
    monkeypatch.setenv("SOCLE_DATABASE_URL", sqlite_url(tmp_path))
    return tmp_path


def test_report_as_json_csv_and_table(seeded: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["report", "--by", "project", "--period", "2026-11", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = orjson.loads(result.stdout)
    assert [(r["project"], r["requests"], r["cost"]) for r in rows] == [
        ("p1", 10, 2.5),
        ("p2", 4, 0.5),
    ]
    assert rows[0]["mean_temperature"] == 0.2 and rows[0]["co2e_g"] == 0.6

    result = runner.invoke(
        app, ["report", "--by", "team", "--period", "2026-11", "--format", "csv", "--project", "p1"]
    )
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["team"] == "t1" and row["errors"] == "1"

    result = runner.invoke(app, ["report", "--by", "model", "--period", "2026-10-31..2026-11-30"])
    assert result.exit_code == 0, result.output
    assert "chat" in result.stdout and "113" in result.stdout


def test_bad_arguments_exit_with_code_2(seeded: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["report", "--by", "colour"]).exit_code == 2
    assert runner.invoke(app, ["report", "--period", "2026-13"]).exit_code == 2
    assert runner.invoke(app, ["report", "--format", "xml"]).exit_code == 2


def test_budgets_lists_configured_budgets(seeded: Path) -> None:
    (seeded / "socle.yaml").write_text(
        "accounting:\n  budgets:\n    - {scope: project, id: p1, period: month, limit: 10}\n"
    )
    result = CliRunner().invoke(app, ["budgets", "--format", "json"])
    assert result.exit_code == 0, result.output
    [row] = orjson.loads(result.stdout)
    assert row["budget"] == "project:p1:month" and row["spent"] == 0 and row["limit"] == 10
