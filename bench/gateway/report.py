"""Write a run's results: ``<stem>.json`` (everything), ``<stem>.md`` (tables), ``<stem>.png``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from bench.gateway.results import Analysis, RunRecord
from bench.gateway.stream_client import StreamSummary


def write_json(path: Path, document: dict[str, Any]) -> None:
    """The full results document, indented, keys in insertion order."""
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def describe_errors(record: RunRecord) -> str:
    """``non_2xx 35 (HTTP 503 ×35)``-style summary of a run's errors, empty when none."""
    res = record.result
    if res is None or not res.errors:
        return ""
    text = ", ".join(f"{k} {v}" for k, v in res.errors.items())
    if res.statuses:
        text += " (" + ", ".join(f"HTTP {c} ×{n}" for c, n in sorted(res.statuses.items())) + ")"
    return text


def _run_rows(records: list[RunRecord]) -> list[str]:
    rows = [
        "| System | Workers | Scenario | Conc. | RPS | p50 ms | p99 ms | CPU ms/req | "
        "+ PG ms/req | server cores | other cores | Errors |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in records:
        res = r.result
        errors = describe_errors(r)
        if not r.ok:
            errors = "**" + (errors or r.note or "not run") + "**"
        elif r.profiled:
            errors = "(profiled: not compared)"
        cpu_ms = None if r.cpu_s_per_req is None else r.cpu_s_per_req * 1000
        db_ms = None if r.db_cpu_s_per_req is None else r.db_cpu_s_per_req * 1000
        rows.append(
            f"| {r.system} | {r.workers} | {r.scenario} | {r.concurrency} | "
            f"{_fmt(res.rps if res else None, 0)} | {_fmt(res.p50_ms if res else None, 2)} | "
            f"{_fmt(res.p99_ms if res else None, 2)} | {_fmt(cpu_ms, 3)} | {_fmt(db_ms, 3)} | "
            f"{_fmt(r.cpu_cores, 2)} | {_fmt(r.background_cores, 2)} | {errors} |"
        )
    return rows


def _stream_rows(summaries: list[StreamSummary]) -> list[str]:
    rows = [
        "| Target | Streams | Errors | TTFT p50 | TTFT p99 | chunk transit p50 | "
        "chunk transit p99 | gap p50 | gap p99 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        rows.append(
            f"| {s.target} | {s.streams} | {s.errors} | {_fmt(s.ttft_p50_ms, 2)} | "
            f"{_fmt(s.ttft_p99_ms, 2)} | {_fmt(s.transit_p50_ms, 3)} | "
            f"{_fmt(s.transit_p99_ms, 3)} | {_fmt(s.gap_p50_ms, 2)} | {_fmt(s.gap_p99_ms, 2)} |"
        )
    return rows


def stream_added(summaries: list[StreamSummary]) -> dict[str, float]:
    """Each gateway's TTFT and per-chunk transit minus the passthrough's (ms)."""
    by_name = {s.target: s for s in summaries}
    floor = by_name.get("passthrough")
    added: dict[str, float] = {}
    if floor is None:
        return added
    for s in summaries:
        if s.target in ("passthrough", "upstream"):
            continue
        for field in ("ttft_p50_ms", "ttft_p99_ms", "transit_p50_ms", "transit_p99_ms"):
            mine, base = getattr(s, field), getattr(floor, field)
            if mine is not None and base is not None:
                added[f"{s.target} {field.removesuffix('_ms')} added ms"] = round(mine - base, 3)
    return added


def write_markdown(
    path: Path,
    document: dict[str, Any],
    records: list[RunRecord],
    analysis: Analysis,
    streams: list[StreamSummary],
) -> None:
    """Human summary: runs, ratios, targets, streaming, skipped parts."""
    s = document["settings"]
    host = document["host"]
    lines = [
        f"# Gateway benchmark — {document['date']}",
        "",
        f"{host['cpu']} ({host['cores']} cores), Linux {host['kernel']}, Python {host['python']}; "
        f"upstream: {document['upstream']}; wrk {s['wrk_threads']} thread, {s['duration_s']} s "
        f"per run after {s['warmup_s']} s warm-up; total {document['elapsed_s']:.0f} s.",
        "Load generator, mock upstream and server share the machine's cores: absolute numbers are "
        "for comparison within this run only.",
        "",
        "## Runs",
        "",
        *_run_rows(records),
        "",
        "CPU ms/req: user + system time of the server's process tree per request; + PG ms/req: "
        "the PostgreSQL backends connected to its database (socle-pg; Redis is not counted); "
        "server cores: the server's CPU over the run's duration; other cores: CPU used meanwhile "
        "by everything else but the mock upstream and wrk (above 0.2 the run is noisy).",
        "",
        "## Ratios",
        "",
        "| Ratio | Value |",
        "|---|---:|",
        *(f"| {k} | {v:,.3f} |" for k, v in analysis.ratios.items()),
        "",
        "## Targets",
        "",
        "| Target | Value | Goal | Met |",
        "|---|---:|---|---|",
    ]
    for t in analysis.targets:
        met = {True: "yes", False: "**no**", None: "not measured"}[t.passed]
        lines.append(f"| {t.name} | {_fmt(t.value, 2)} | {t.goal} | {met} |")
    if streams:
        lines += [
            "",
            "## Streaming latency (paced upstream)",
            "",
            f"{document['streaming']['chunks']} chunks, first after "
            f"{document['streaming']['first_ms']} ms then every "
            f"{document['streaming']['interval_ms']} ms; times in ms. Transit: arrival at the "
            "client minus emission by the upstream, per chunk.",
            "",
            *_stream_rows(streams),
            "",
            *(f"- {k}: {v:+.3f}" for k, v in document["streaming"]["added_vs_passthrough"].items()),
        ]
    failed = [r for r in records if r.result is not None and r.result.first_error_body]
    if failed:
        lines += ["", "## First error answer of each failed run", ""]
        lines += [
            f"- {r.label} {r.scenario} c{r.concurrency}: `{r.result.first_error_body[:240]}`"
            for r in failed
            if r.result is not None
        ]
    if document["notes"]:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in document["notes"]]
    if document["skipped"]:
        lines += ["", "## Not measured", ""]
        lines += [f"- **{item['what']}**: {item['why']}" for item in document["skipped"]]
    lines += ["", f"Command: `{document['command']}`", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def write_plot(path: Path, records: list[RunRecord]) -> bool:
    """Bars of RPS and p99 per system and concurrency (chat scenario); False if nothing to plot."""
    chat = [r for r in records if r.ok and r.scenario == "chat" and not r.profiled]
    if not chat:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(r.label for r in chat))
    levels = sorted({r.concurrency for r in chat})
    width = 0.8 / len(levels)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    metrics = (("rps", "Throughput (requests/s, log)"), ("p99_ms", "p99 latency (ms, log)"))
    for ax, (metric, title) in zip(axes, metrics, strict=True):
        for i, level in enumerate(levels):
            xs, ys = [], []
            for x, label in enumerate(labels):
                match = [r for r in chat if r.label == label and r.concurrency == level]
                if match and match[0].result is not None:
                    xs.append(x + (i - (len(levels) - 1) / 2) * width)
                    ys.append(getattr(match[0].result, metric))
            bars = ax.bar(xs, ys, width, label=f"c={level}")
            ax.bar_label(
                bars,
                labels=[f"{y:,.0f}" if y >= 10 else f"{y:.2f}" for y in ys],
                fontsize=7,
                rotation=90,
                padding=2,
            )
        ax.set_title(title)
        ax.set_yscale("log")
        ax.set_xticks(range(len(labels)), labels, rotation=25, ha="right")
        ax.margins(y=0.25)
        ax.legend()
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Chat completions through each system (same mock upstream, wrk 1 thread)")
    fig.tight_layout()
    tmp = path.with_suffix(".png.tmp")
    fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return True
