"""Streaming latency: time to first token and per-chunk transit, gateway by gateway.

Targets (the paced upstream itself, the passthrough and Socle, all in front of the same paced
upstream) are measured side by side: every round sends a few concurrent streams to each target
in turn, so slow drifts of the machine hit them all alike. Per chunk, the arrival time is
compared with the time the upstream emitted that chunk (both CLOCK_MONOTONIC); chunks are
matched by cumulated content length, so a gateway that regroups chunks is still measured right.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import uvloop

from bench.gateway import payloads


@dataclass(frozen=True)
class StreamTarget:
    """One server to stream through: its chat completions URL, headers and model name."""

    name: str
    url: str
    headers: dict[str, str]
    model: str = payloads.PACED_MODEL


@dataclass
class StreamSample:
    """What one stream showed."""

    ttft_ms: float | None = None
    gaps_ms: list[float] = field(default_factory=list)
    transits_ms: list[float] = field(default_factory=list)
    content_events: int = 0
    error: str | None = None


@dataclass
class StreamSummary:
    """Percentiles over every stream of one target."""

    target: str
    streams: int
    errors: int
    ttft_p50_ms: float | None
    ttft_p99_ms: float | None
    gap_p50_ms: float | None
    gap_p99_ms: float | None
    transit_p50_ms: float | None
    transit_p99_ms: float | None
    content_events_per_stream: float | None
    first_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


_MARKERS = itertools.count(1)


async def _one_stream(
    session: aiohttp.ClientSession, target: StreamTarget, timings_url: str, chunks: int
) -> StreamSample:
    marker = f"bench-stream-{next(_MARKERS)}"
    body = payloads.request_body("stream", marker=marker)
    body["model"] = target.model
    sample = StreamSample()
    arrivals: list[tuple[int, int]] = []  # (content length so far, arrival ns)
    received = 0
    started = time.monotonic_ns()
    async with session.post(target.url, data=orjson.dumps(body), headers=target.headers) as resp:
        if resp.status != 200:
            sample.error = f"HTTP {resp.status}: {(await resp.read())[:200]!r}"
            return sample
        async for line in resp.content:
            now = time.monotonic_ns()
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                break
            for choice in orjson.loads(data).get("choices") or ():
                text = (choice.get("delta") or {}).get("content")
                if text:
                    received += len(text)
                    arrivals.append((received, now))
    if not arrivals:
        sample.error = "no content chunk"
        return sample
    sample.content_events = len(arrivals)
    sample.ttft_ms = (arrivals[0][1] - started) / 1e6
    sample.gaps_ms = [(b[1] - a[1]) / 1e6 for a, b in itertools.pairwise(arrivals)]
    async with session.get(f"{timings_url}/{marker.rsplit('-', 1)[1]}") as resp:
        if resp.status == 200:
            emitted: list[int] = orjson.loads(await resp.read())
            sample.transits_ms = _transits(emitted, arrivals, chunks)
    return sample


def _transits(emitted: list[int], arrivals: list[tuple[int, int]], chunks: int) -> list[float]:
    """Arrival minus emission of each upstream chunk, matched on cumulated content length."""
    ends = list(itertools.accumulate(len(p) for p in payloads.stream_pieces(chunks)))
    transits: list[float] = []
    j = 0
    for end, emitted_ns in zip(ends, emitted, strict=False):
        while j < len(arrivals) and arrivals[j][0] < end:
            j += 1
        if j == len(arrivals):
            break
        transits.append((arrivals[j][1] - emitted_ns) / 1e6)
    return transits


def _summarise(name: str, samples: list[StreamSample]) -> StreamSummary:
    good = [s for s in samples if s.error is None]
    ttft = [s.ttft_ms for s in good if s.ttft_ms is not None]
    gaps = [g for s in good for g in s.gaps_ms]
    transits = [t for s in good for t in s.transits_ms]
    errors = [s.error for s in samples if s.error is not None]
    return StreamSummary(
        target=name,
        streams=len(samples),
        errors=len(errors),
        ttft_p50_ms=percentile(ttft, 50),
        ttft_p99_ms=percentile(ttft, 99),
        gap_p50_ms=percentile(gaps, 50),
        gap_p99_ms=percentile(gaps, 99),
        transit_p50_ms=percentile(transits, 50),
        transit_p99_ms=percentile(transits, 99),
        content_events_per_stream=statistics.fmean(s.content_events for s in good)
        if good
        else None,
        first_error=errors[0] if errors else None,
    )


async def measure(
    targets: list[StreamTarget],
    timings_url: str,
    *,
    chunks: int,
    rounds: int,
    concurrency: int,
) -> list[StreamSummary]:
    """Run ``rounds`` rounds of ``concurrency`` parallel streams per target, targets in turn."""
    samples: dict[str, list[StreamSample]] = {t.name: [] for t in targets}
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for target in targets:  # warm-up: open connections, fill caches
            await _one_stream(session, target, timings_url, chunks)
        for index in range(rounds):
            # Rotate the order so no target always runs right after another one.
            shift = index % len(targets)
            for target in targets[shift:] + targets[:shift]:
                batch = [
                    _one_stream(session, target, timings_url, chunks) for _ in range(concurrency)
                ]
                for result in await asyncio.gather(*batch, return_exceptions=True):
                    if isinstance(result, BaseException):
                        result = StreamSample(error=f"{type(result).__name__}: {result}")
                    samples[target.name].append(result)
    return [_summarise(t.name, samples[t.name]) for t in targets]


def run_measure(
    targets: list[StreamTarget],
    timings_url: str,
    *,
    chunks: int,
    rounds: int,
    concurrency: int,
) -> list[StreamSummary]:
    """Blocking wrapper of :func:`measure` on uvloop."""
    return uvloop.run(
        measure(targets, timings_url, chunks=chunks, rounds=rounds, concurrency=concurrency)
    )
