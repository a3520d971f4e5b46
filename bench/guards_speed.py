"""Speed of the guards on one core, optionally side by side with an earlier revision.

    python bench/guards_speed.py [--seconds 2] [--baseline REV] [--security-heavy] [--deep]

Workloads:

- ``mixed``: ~500-character chat messages built from tests/data/guards/eval.jsonl: 60 %
  everyday messages (incl. the hard negatives: order numbers, dates, amounts), 25 % with
  personal data or secrets, 10 % security talk, 5 % injection attempts; each padded with
  everyday questions up to ~500 characters (``--security-heavy``: padded with security talk,
  the worst case for the injection gates).
- ``business``: typical benign business messages (tests/data/guards/business_messages.json,
  12 French and 4 English, ~450 characters), and a typical ~770-character French answer with
  the system prompt of that file for ``on_response``.
- ``conversation``: a system prompt and 8 earlier turns resent with each new user message
  (what chat clients do); ``before_call`` per request, with the scan cache (history hits) and
  without it.

Timed with the thread's CPU clock (best of at least 5 rounds), contexts and responses built
outside the timed loop. The scan cache is off except in the "cached" row (the rounds replay
the same messages, which would otherwise be cache hits). ``--baseline REV`` extracts
src/socle/guards at git revision REV into a temporary package and times it in the same run.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from socle.pipeline.context import RequestContext
from socle.pipeline.errors import ContentPolicyViolation

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "guards" / "eval.jsonl"
BUSINESS = ROOT / "tests" / "data" / "guards" / "business_messages.json"
TARGET_CHARS = 500
KEY = b"bench-key-0123456789abcdef"


def workload(n: int = 2000, seed: int = 7, security_heavy: bool = False) -> list[str]:
    """~500-character messages in the mix described in the module docstring."""
    rng = random.Random(seed)
    by_kind: dict[str, list[str]] = {}
    with DATA.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if r["injection"]:
                kind = "attack"
            elif r["kind"] == "benign_security":
                kind = "security"
            elif r["kind"] == "pii" and r["entities"]:
                kind = "pii"
            else:
                kind = "everyday"
            by_kind.setdefault(kind, []).append(r["text"])
            if r["kind"] == "benign":
                by_kind.setdefault("general", []).append(r["text"])
    padding = by_kind["security" if security_heavy else "general"]
    out: list[str] = []
    for _ in range(n):
        roll = rng.random()
        kind = (
            "everyday" if roll < 0.60 else "pii" if roll < 0.85 else "security" if roll < 0.95
            else "attack"
        )  # fmt: skip
        parts = [rng.choice(by_kind[kind])]
        while sum(map(len, parts)) < TARGET_CHARS:
            parts.append(rng.choice(padding))
        out.append(" ".join(parts)[: TARGET_CHARS + 40])
    return out


def load_guards(rev: str | None) -> ModuleType:
    """The ``socle.guards`` package, or a copy of it at git revision ``rev``."""
    if rev is None:
        return importlib.import_module("socle.guards")
    name = f"guards_{rev.replace('-', '_').replace('~', '_')}"
    root = Path(tempfile.mkdtemp(prefix="guards-baseline-"))
    pkg = root / name
    pkg.mkdir()
    files = subprocess.run(
        ["git", "ls-tree", "--name-only", rev, "src/socle/guards/"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    for f in files:
        src = subprocess.run(
            ["git", "show", f"{rev}:{f}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        (pkg / Path(f).name).write_text(src.replace("socle.guards", name), encoding="utf-8")
    sys.path.insert(0, str(root))
    return importlib.import_module(name)


def measure(
    fn: Callable[[int], object], n: int, seconds: float, setup: Callable[[], None]
) -> float:
    """Best round (µs per item) of ``fn(i)`` for i in range(n); ``setup`` runs untimed before
    each round (it builds the contexts a round consumes)."""
    setup()
    for i in range(min(n, 100)):
        fn(i)  # warm-up
    rounds: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(rounds) < 5 or (time.perf_counter() < deadline and len(rounds) < 50):
        setup()
        gc.disable()
        try:
            t0 = time.thread_time()
            for i in range(n):
                fn(i)
            rounds.append((time.thread_time() - t0) / n)
        finally:
            gc.enable()
    return min(rounds) * 1e6


def run(coro: Any) -> Any:
    """Drive a coroutine that never awaits (the stage without the deep stage)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    except ContentPolicyViolation:
        return None
    raise RuntimeError("the stage awaited")


def chat_ctx(messages: list[dict[str, str]]) -> RequestContext:
    return RequestContext(
        request_id="b", endpoint="chat.completions", headers={},
        body={"model": "m", "messages": [dict(m) for m in messages]},
    )  # fmt: skip


class Suite:
    """The rows of the report for one version of the guards package."""

    def __init__(self, guards: ModuleType, seconds: float) -> None:
        self.g = guards
        self.seconds = seconds
        self.scanner = guards.EntityScanner()
        self.detector = guards.InjectionDetector()
        self.view = importlib.import_module(guards.__name__ + ".textview").TextView
        fields = guards.GuardsConfig.model_fields
        off = {"scan_cache_entries": 0} if "scan_cache_entries" in fields else {}
        self.stage = guards.GuardsStage(guards.GuardsConfig(**off), KEY)
        self.cached_stage = guards.GuardsStage(guards.GuardsConfig(), KEY) if off else None

    def fast(self, msgs: list[str]) -> dict[str, float]:
        view = self.view
        t = self.seconds

        def both(i: int) -> object:
            v = view(msgs[i])
            return self.scanner.scan(v), self.detector.score(v)

        return {
            "entity scan": measure(lambda i: self.scanner.scan(msgs[i]), len(msgs), t, _nop),
            "injection score": measure(lambda i: self.detector.score(msgs[i]), len(msgs), t, _nop),
            "fast path (scan + injection)": measure(both, len(msgs), t, _nop),
        }

    def before_call(self, requests: list[list[dict[str, str]]], stage: Any = None) -> float:
        stage = stage or self.stage
        ctxs: list[RequestContext] = []

        def setup() -> None:
            ctxs[:] = [chat_ctx(r) for r in requests]

        return measure(
            lambda i: run(stage.before_call(ctxs[i])), len(requests), self.seconds, setup
        )

    def before_call_fresh_users(self, requests: list[list[dict[str, str]]]) -> float:
        """``before_call`` with the scan cache on, each round's user messages made new (a
        counter appended) so that only the repeated system prompt can hit the cache: what an
        application sending one system prompt with every request costs."""
        stage = self.cached_stage or self.stage
        ctxs: list[RequestContext] = []
        rounds = [0]

        def setup() -> None:
            rounds[0] += 1
            tag = f" (#{rounds[0]})"
            ctxs[:] = [
                chat_ctx([m if m["role"] != "user" else {**m, "content": m["content"] + tag}
                          for m in r])
                for r in requests
            ]  # fmt: skip

        return measure(
            lambda i: run(stage.before_call(ctxs[i])), len(requests), self.seconds, setup
        )

    def on_response(self, requests: list[list[dict[str, str]]], answer: str) -> float:
        pairs: list[tuple[RequestContext, dict[str, Any]]] = []

        def setup() -> None:
            pairs.clear()
            for r in requests:
                ctx = chat_ctx(r)
                run(self.stage.before_call(ctx))
                response = {"choices": [{"index": 0, "message": {"role": "assistant",
                            "content": answer}, "finish_reason": "stop"}]}  # fmt: skip
                pairs.append((ctx, response))

        def call(i: int) -> object:
            ctx, response = pairs[i]
            return run(self.stage.on_response(ctx, response))

        return measure(call, len(requests), self.seconds, setup)


def _nop() -> None:
    return None


def conversation(system: str, turns: list[str], n: int) -> list[list[dict[str, str]]]:
    """``n`` requests of one growing conversation: system prompt, then user/assistant turns."""
    history: list[dict[str, str]] = [{"role": "system", "content": system}]
    requests: list[list[dict[str, str]]] = []
    for i in range(n):
        history.append({"role": "user", "content": turns[i % len(turns)] + f" (#{i})"})
        requests.append([history[0], *history[-17:]])  # system + the last 8 turns + new one
        history.append({"role": "assistant", "content": turns[(i + 3) % len(turns)]})
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--baseline", help="git revision to time side by side")
    parser.add_argument("--deep", action="store_true", help="also time the Presidio stage")
    parser.add_argument("--security-heavy", action="store_true", help="pad with security talk")
    args = parser.parse_args()
    mixed = workload(security_heavy=args.security_heavy)
    biz = json.loads(BUSINESS.read_text(encoding="utf-8"))
    business = biz["messages_fr"] + biz["messages_en"]
    system = biz["system_prompt"]
    one = [
        [{"role": "system", "content": system}, {"role": "user", "content": m}] for m in business
    ]
    mixed_requests = [[{"role": "user", "content": m}] for m in mixed]
    convo = conversation(system, business, 64)
    kb = statistics.mean(map(len, mixed)) / 1024
    print(
        f"mixed: {len(mixed)} messages, {kb * 1024:.0f} characters on average; business: "
        f"{len(business)} messages, {statistics.mean(map(len, business)):.0f} characters; "
        f"conversation: {len(convo)} requests of {statistics.mean(map(len, convo)):.0f} "
        "messages; best round, CPU time of one thread (µs per message or request)\n"
    )
    versions = [("current", load_guards(None))]
    if args.baseline:
        versions.insert(0, (args.baseline, load_guards(args.baseline)))
    table: dict[str, dict[str, float]] = {}
    for label, guards in versions:
        s = Suite(guards, args.seconds)
        col: dict[str, float] = {}
        for name, us in s.fast(mixed).items():
            col[f"mixed: {name}"] = us
        col["mixed: before_call (1 user message)"] = s.before_call(mixed_requests)
        col["business: fast path"] = s.fast(business)["fast path (scan + injection)"]
        col["business: before_call (system + user)"] = s.before_call(one)
        col["business: before_call, cache (same system)"] = s.before_call_fresh_users(one)
        col["business: on_response (770-char answer)"] = s.on_response(one, biz["answer_fr"])
        col["conversation: before_call, no cache"] = s.before_call(convo)
        if s.cached_stage is not None:
            col["conversation: before_call, cache"] = s.before_call(convo, s.cached_stage)
        table[label] = col
    labels = [v[0] for v in versions]
    print(f"{'':<44}" + "".join(f"{lab:>14}" for lab in labels) + f"{'msgs/s':>10}{'µs/KB':>8}")
    for row in table[labels[-1]]:
        cells = "".join(f"{table[lab].get(row, float('nan')):>14.1f}" for lab in labels)
        us = table[labels[-1]][row]
        extra = f"{1e6 / us:>10,.0f}{us / kb:>8.0f}" if row.startswith("mixed") else ""
        print(f"{row:<44}{cells}{extra}")

    if args.deep:
        from socle.guards.deep import PersonRecognizer

        people = PersonRecognizer()
        sample = mixed[:200]
        t0 = time.thread_time()
        for m in sample:
            people.find(m)
        per = (time.thread_time() - t0) / len(sample)
        print(f"{'deep person stage (Presidio)':<44}{per * 1e6:>14.0f}")


if __name__ == "__main__":
    main()
