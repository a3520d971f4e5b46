"""Speed of the guards fast path on one core.

    python bench/guards_speed.py [--seconds 3] [--deep]

Messages: ~500-character chat messages built from tests/data/guards/eval.jsonl, mixed as a
chat workload: 60 % everyday messages (incl. the hard negatives: order numbers, dates, amounts),
25 % with personal data or secrets, 10 % security talk, 5 % injection attempts; each padded with
everyday questions (the set's "benign" messages) up to ~500 characters. ``--security-heavy``
pads with security talk instead
(the worst case for the injection gates).

Reports, per message: the entity scan, the injection score, both together (the fast path) and
the whole ``GuardsStage.before_call`` on a one-message chat request (policy "default": scan,
classification, rewrite); msgs/s and µs per KB of text. With ``--deep``, the Presidio person
stage as well (milliseconds).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from socle.guards.config import GuardsConfig
from socle.guards.injection import InjectionDetector
from socle.guards.scanner import EntityScanner
from socle.guards.stage import GuardsStage
from socle.guards.textview import TextView
from socle.pipeline.context import RequestContext
from socle.pipeline.errors import ContentPolicyViolation

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "guards" / "eval.jsonl"
TARGET_CHARS = 500


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


def measure(
    fn: Callable[[str], object], messages: list[str], seconds: float
) -> tuple[float, float]:
    """Best round of at least 5: (µs per message, msgs/s), each round over every message.

    Timed with the thread's CPU clock, not the wall clock: on a shared machine other processes
    take the core away, and CPU time is what one core spends on the guards.
    """
    for m in messages[:200]:
        fn(m)  # warm-up
    rounds: list[float] = []
    deadline = time.perf_counter() + seconds
    gc.disable()
    try:
        while len(rounds) < 5 or (time.perf_counter() < deadline and len(rounds) < 50):
            t0 = time.thread_time()
            for m in messages:
                fn(m)
            rounds.append((time.thread_time() - t0) / len(messages))
    finally:
        gc.enable()
    best = min(rounds)
    return best * 1e6, 1.0 / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--deep", action="store_true", help="also time the Presidio stage")
    parser.add_argument("--security-heavy", action="store_true", help="pad with security talk")
    args = parser.parse_args()
    messages = workload(security_heavy=args.security_heavy)
    avg_chars = statistics.mean(map(len, messages))
    kb = avg_chars / 1024
    print(
        f"{len(messages)} messages, {avg_chars:.0f} characters on average; "
        "best round, CPU time of one thread\n"
    )

    scanner = EntityScanner()
    detector = InjectionDetector()

    def fast_path(text: str) -> object:
        view = TextView(text)
        return scanner.scan(view), detector.score(view)

    stage = GuardsStage(GuardsConfig(), b"bench-key-0123456789abcdef")

    def stage_call(text: str) -> object:
        ctx = RequestContext(
            request_id="b", endpoint="chat.completions", headers={},
            body={"model": "m", "messages": [{"role": "user", "content": text}]},
        )  # fmt: skip
        coro = stage.before_call(ctx)
        try:
            coro.send(None)  # before_call never awaits without the deep stage
        except StopIteration:
            pass
        except ContentPolicyViolation:
            pass
        return ctx

    rows = [
        ("entity scan", lambda t: scanner.scan(t)),
        ("injection score", lambda t: detector.score(t)),
        ("fast path (scan + injection)", fast_path),
        ("GuardsStage.before_call", stage_call),
    ]
    print(f"{'':<32}{'µs/msg':>10}{'msgs/s':>12}{'µs/KB':>10}")
    for name, fn in rows:
        us, rate = measure(fn, messages, args.seconds)
        print(f"{name:<32}{us:>10.1f}{rate:>12,.0f}{us / kb:>10.1f}")

    if args.deep:
        from socle.guards.deep import PersonRecognizer

        people = PersonRecognizer()
        sample = messages[:200]
        t0 = time.thread_time()
        for m in sample:
            people.find(m)
        per = (time.thread_time() - t0) / len(sample)
        print(
            f"{'deep person stage (Presidio)':<32}{per * 1e6:>10.0f}{1 / per:>12,.0f}"
            f"{per * 1e6 / kb:>10.0f}"
        )


if __name__ == "__main__":
    main()
