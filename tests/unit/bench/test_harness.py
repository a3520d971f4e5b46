"""Tests of the harness itself: ``python -m pytest bench/gateway -q`` (about 10 s).

Pure parts are checked on made-up inputs; the servers (mock upstreams, passthrough, wrk) are
started for real on loopback, and skipped with a reason when nginx or wrk is not installed.
"""

from __future__ import annotations

import http.server
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import yaml

from bench.gateway import litellm_peer, payloads, stages
from bench.gateway.cpu import cpu_delta, tree_cpu_seconds
from bench.gateway.passthrough import start_passthrough
from bench.gateway.procs import RunLocked, ServiceGroup, exclusive_run, http_post
from bench.gateway.results import RunRecord, analyse
from bench.gateway.settings import parse_ints, parse_systems
from bench.gateway.socle_config import deep_merge, socle_config
from bench.gateway.stream_client import StreamTarget, _transits, percentile, run_measure
from bench.gateway.upstream import nginx_quote, start_nginx, start_python_upstream
from bench.gateway.wrk import WrkResult, lua_script, merge_slices, run_wrk
from socle.config import load_settings

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def group(tmp_path: Path) -> Iterator[ServiceGroup]:
    with ServiceGroup(tmp_path / "logs") as services:
        yield services


def test_nginx_quote_escapes_and_refuses_variables() -> None:
    assert nginx_quote("l'objet \\ a\nb") == "'l\\'objet \\\\ a\\nb'"
    with pytest.raises(ValueError, match=r"\$"):
        nginx_quote("cost $5")


def test_a_second_run_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "bench.lock"
    with exclusive_run(lock, 0, "first"):
        second = exclusive_run(lock, 0.5, "second")
        with pytest.raises(RunLocked, match="first"):
            second.__enter__()
    with exclusive_run(lock, 0, "third"):
        assert "third" in lock.read_text()


def test_payloads_are_valid_openai_messages() -> None:
    body = orjson.loads(payloads.request_bytes("chat"))
    assert 450 <= len(payloads.request_bytes("chat")) <= 700
    assert body["messages"][1]["role"] == "user"
    assert orjson.loads(payloads.request_bytes("stream"))["stream"] is True
    assert "IBAN" in orjson.loads(payloads.request_bytes("pii"))["messages"][1]["content"]
    answer = orjson.loads(payloads.completion_bytes())
    assert answer["usage"]["total_tokens"] == 192
    events = payloads.stream_bytes(40).split(b"\n\n")
    assert events[-2:] == [b"data: [DONE]", b""]
    assert len(events) == 1 + 40 + 3 + 1  # role, content, finish + usage + [DONE], trailing


def test_request_template_numbers_the_question_only() -> None:
    template = orjson.loads(payloads.request_template("chat"))
    plain = orjson.loads(payloads.request_bytes("chat"))
    assert template["messages"][0] == plain["messages"][0]  # the system prompt never changes
    assert template["messages"][1]["content"].endswith(f"(demande n° {payloads.SERIAL})")
    with pytest.raises(ValueError, match="exactly once"):
        lua_script(b'{"a": 1}', None, serial=payloads.SERIAL)


def test_lua_script_carries_body_and_key() -> None:
    script = lua_script(b'{"a": 1}', "sk-test")
    assert 'wrk.body = [==[{"a": 1}]==]' in script
    assert '"Bearer sk-test"' in script
    assert "Authorization" not in lua_script(b"{}", None)
    with pytest.raises(ValueError):
        lua_script(b'{"a": "]==]"}', None)


def test_system_selection() -> None:
    assert parse_systems("passthrough,socle") == {"passthrough", "socle-sqlite", "socle-pg"}
    with pytest.raises(ValueError, match="unknown system"):
        parse_systems("nginx,envoy")
    assert parse_ints("32,8,8") == (8, 32)


def test_deep_merge_overrides_and_deletes() -> None:
    base = socle_config(
        backend="pg", chat_base="http://a/v1", stream_base="http://b/v1", paced_base=None
    )
    assert base["accounting"]["backend"] == "redis"
    merged = deep_merge(base, {"audit": {"mode": "async"}, "guards": None})
    assert merged["audit"] == {"mode": "async"}
    assert "guards" not in merged
    assert base["audit"] == {"mode": "sync"}  # the original is untouched


def test_transits_follow_regrouped_chunks() -> None:
    pieces = payloads.stream_pieces(4)
    ends = list(itertools.accumulate(len(p) for p in pieces))
    emitted = [1_000_000 * (i + 1) for i in range(4)]
    # The gateway sent chunks 0-1 together at 2.5 ms and chunks 2-3 together at 5 ms.
    arrivals = [(ends[1], 2_500_000), (ends[3], 5_000_000)]
    assert _transits(emitted, arrivals, 4) == [1.5, 0.5, 2.0, 1.0]
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([], 99) is None


def _record(system: str, workers: int, c: int, rps: float, p99: float) -> RunRecord:
    result = WrkResult(
        requests=int(rps * 10),
        duration_s=10.0,
        rps=rps,
        p50_ms=p99 / 2,
        p90_ms=p99,
        p99_ms=p99,
        mean_ms=p99 / 2,
        max_ms=p99,
    )
    return RunRecord(system, workers, "chat", c, result=result, cpu_s=1.0)


def test_merge_slices_adds_counts_and_takes_median_percentiles() -> None:
    a = _record("x", 1, 8, 100, 10.0).result
    b = _record("x", 1, 8, 300, 30.0).result
    c = _record("x", 1, 8, 200, 20.0).result
    assert a is not None and b is not None and c is not None
    b.errors, b.statuses, b.first_error_body = {"non_2xx": 2}, {"503": 2}, "busy"
    merged = merge_slices([a, b, c])
    assert merged.requests == 6000 and merged.duration_s == 30.0 and merged.rps == 200.0
    assert merged.p99_ms == 20.0 and merged.max_ms == 30.0
    assert merged.errors == {"non_2xx": 2} and merged.statuses == {"503": 2}
    assert merged.first_error_body == "busy"
    with pytest.raises(ValueError):
        merge_slices([])


def test_analysis_ratios_and_targets() -> None:
    records = [
        _record("passthrough", 1, 8, 2000, 4.0),
        _record("socle-sqlite", 1, 8, 1200, 7.0),
        _record("socle-sqlite", 2, 8, 2100, 6.0),
        _record("litellm", 1, 8, 50, 300.0),
    ]
    failed = _record("socle-sqlite", 1, 8, 9999, 1.0)
    failed.result.errors["non_2xx"] = 3  # type: ignore[union-attr]
    analysis = analyse([failed, *records], [8])
    assert analysis.ratios["socle-sqlite/passthrough rps c8"] == 0.6
    assert analysis.ratios["socle-sqlite p99 added ms c8"] == 3.0
    assert analysis.ratios["socle-sqlite/litellm rps c8"] == 24.0
    assert analysis.ratios["socle-sqlite x2/x1 rps c8"] == 1.75
    verdicts = {t.name: t.passed for t in analysis.targets}
    assert verdicts["socle-sqlite ×1 c8 RPS / passthrough"] is True
    assert verdicts["socle-sqlite ×2 / ×1 RPS (c8)"] is True
    assert verdicts["socle-pg ×1 c8 RPS / passthrough"] is None  # not measured


_BURN = (
    "import time\n"
    "print('start', flush=True)\n"
    "end = time.process_time() + 0.3\n"
    "while time.process_time() < end: pass\n"
    "print('done', flush=True)\n"
    "time.sleep(30)\n"
)


def test_cpu_of_a_process_tree() -> None:
    # A parent whose child burns 0.3 s of CPU by its own clock: a busy machine only slows it.
    argv = [
        sys.executable,
        "-c",
        f"import subprocess, sys; sys.exit(subprocess.call({[sys.executable, '-c', _BURN]!r}))",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "start"
        before = tree_cpu_seconds(proc.pid)
        assert proc.stdout.readline().strip() == "done"
        after = tree_cpu_seconds(proc.pid)
        assert len(after) == 2  # the parent and its busy child
        assert 0.2 <= cpu_delta(before, after) < 1.0
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_passthrough_relays_json_and_stream(group: ServiceGroup) -> None:
    upstream = start_python_upstream(group, "paced", chunks=5, interval_ms=5, first_ms=5)
    _, origin = start_passthrough(group, "passthrough", upstream.origin)
    status, body = http_post(f"{origin}/v1/chat/completions", payloads.request_bytes("chat"), JSON)
    assert (status, body) == (200, payloads.completion_bytes())
    targets = [
        StreamTarget("upstream", f"{upstream.chat_base}/chat/completions", JSON),
        StreamTarget("passthrough", f"{origin}/v1/chat/completions", JSON),
    ]
    summaries = run_measure(
        targets, f"{upstream.origin}/timings", chunks=5, rounds=1, concurrency=2
    )
    for summary in summaries:
        assert summary.errors == 0, summary.first_error
        assert summary.content_events_per_stream == 5
        assert summary.transit_p50_ms is not None and 0 <= summary.transit_p50_ms < 50
        assert summary.ttft_p50_ms is not None and summary.ttft_p50_ms >= 5


@pytest.mark.skipif(not (shutil.which("nginx") and shutil.which("wrk")), reason="needs nginx, wrk")
def test_wrk_on_nginx_counts_requests_and_errors(group: ServiceGroup, tmp_path: Path) -> None:
    upstream = start_nginx(group, tmp_path)
    script = tmp_path / "chat.lua"
    script.write_text(lua_script(payloads.request_bytes("chat"), None))
    good = run_wrk(f"{upstream.chat_base}/chat/completions", script, connections=4, duration_s=1)
    assert good.requests > 100 and not good.errors and good.p99_ms > 0
    bad = run_wrk(f"{upstream.origin}/missing", script, connections=4, duration_s=1)
    assert bad.errors["non_2xx"] == bad.statuses["404"] > 0
    assert "404" in bad.first_error_body


@pytest.mark.skipif(not shutil.which("wrk"), reason="needs wrk")
def test_wrk_serial_script_sends_a_new_question_every_time(tmp_path: Path) -> None:
    bodies: list[bytes] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        script = tmp_path / "serial.lua"
        template = payloads.request_template("chat")
        script.write_text(lua_script(template, None, serial=payloads.SERIAL))
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions"
        result = run_wrk(url, script, connections=2, duration_s=1)
    finally:
        server.shutdown()
        server.server_close()
    assert result.requests > 20 and not result.errors
    questions = [orjson.loads(body)["messages"][1]["content"] for body in bodies]
    assert len(set(questions)) == len(questions) == len(bodies)
    assert all(re.search(r"\(demande n° 1-\d+\)$", q) for q in questions)


def test_litellm_constraints_pin_the_proxy_and_every_dependency() -> None:
    pins = {}
    for line in litellm_peer.CONSTRAINTS.read_text().splitlines():
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep, f"unpinned line in the constraints: {line!r}"
            pins[name.lower()] = version
    assert pins["litellm"] == litellm_peer.LITELLM_VERSION
    assert {"fastapi", "pydantic", "httpx", "openai", "uvicorn"} <= pins.keys()


def test_a_litellm_venv_without_the_constraints_marker_is_not_used(tmp_path: Path) -> None:
    venv = tmp_path / "litellm-venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "litellm").write_text("")
    with pytest.raises(litellm_peer.LiteLLMUnavailable, match=r"litellm-constraints\.txt"):
        litellm_peer.ensure_venv(tmp_path, install=False)


@pytest.mark.parametrize("variant", stages.VARIANTS, ids=[v[0] for v in stages.VARIANTS])
def test_every_stage_variant_is_a_valid_socle_configuration(
    variant: tuple[str, str | None, dict[str, object]], tmp_path: Path
) -> None:
    _name, off, overrides = variant
    document = stages.variant_config(overrides, "http://127.0.0.1:1/v1", "http://127.0.0.1:1/s/v1")
    path = tmp_path / "socle.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    settings = load_settings(path)
    assert settings.guards.enabled is (off not in ("guards", "all three"))
    assert (settings.audit.mode == "off") is (off in ("audit", "all three"))
    assert (not settings.accounting.budgets) is (off in ("budgets and rate limits", "all three"))


def test_stage_costs_are_the_full_pipeline_minus_each_variant() -> None:
    totals = {
        "passthrough": stages.Totals("passthrough", 1000, 1.0, 0.2, [2.0]),
        "full": stages.Totals("full", 500, 1.0, 0.35, [8.0, 9.0, 10.0]),
        "no-guards": stages.Totals("no-guards", 600, 1.0, 0.3, [7.0]),
    }
    rows = {r["server"]: r for r in stages.summarise(totals)}
    assert rows["full"]["cpu_us_per_request"] == 700.0
    assert rows["full"]["cpu_x_passthrough"] == 3.5
    assert rows["full"]["p99_ms_median"] == 9.0
    assert rows["no-guards"]["cost_us"] == 200.0  # 700 - 500
    assert rows["no-guards"]["off"] == "guards"
    assert "cost_us" not in rows["passthrough"] and "cost_us" not in rows["full"]
    assert "| no-guards | guards | 600 | 500 | 2.5 | 200 | 7.0 |" in stages.markdown(
        list(rows.values()),
        {"date": "d", "concurrency": 8, "rounds": 1, "slice_s": 1.0, "command": "c"},
    )
