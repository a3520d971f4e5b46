"""The guards pipeline stage: scan every message, raise the classification, apply the policy,
restore pseudonyms and check the answer (whole or streamed).

Findings go to ``ctx.findings`` as plain dicts without values (see :meth:`Finding.record`);
``X-Socle-Guard`` lists ``type:action`` pairs (``out.<type>:<action>`` for answer findings of a
non-streamed response). A policy block raises :class:`ContentPolicyViolation` (400,
``content_policy_violation``) naming types and rule ids, never values. An answer that an
output check blocks is replaced by the configured refusal with ``finish_reason:
"content_filter"`` rather than turned into an error: the upstream call has happened and been
paid for, and the client gets a well-formed completion.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from socle.guards.config import Action, GuardsConfig
from socle.guards.deep import PersonRecognizer, guess_language
from socle.guards.findings import (
    PII_TYPES,
    PROMPT_INJECTION,
    SECRET,
    Finding,
    ValueHasher,
    resolve_overlaps,
)
from socle.guards.injection import InjectionDetector, Verdict
from socle.guards.output import EchoDetector, OutputCheck, StreamGuard
from socle.guards.policy import ClassificationRules, ResolvedPolicy
from socle.guards.pseudonym import PseudonymMap, StreamRestorer, canonical, mask, rewrite
from socle.guards.scancache import ScanCache, ScanResult
from socle.guards.scanner import EntityScanner
from socle.guards.textview import TextView
from socle.pipeline.context import RequestContext
from socle.pipeline.errors import ContentPolicyViolation
from socle.pipeline.stage import Chunk, Stage

HEADER = "X-Socle-Guard"
_TEXT_PART_TYPES = ("text", "input_text")
_SYSTEM_ROLES = ("system", "developer")
# Echo detectors kept per distinct system prompt (an application sends the same one with every
# request); a few suffice, and they are only kept when the scan cache is on.
_ECHO_CACHE_ENTRIES = 32


@dataclass(slots=True)
class Segment:
    """One piece of text of the request and where to write it back."""

    message_index: int
    role: str
    container: Any  # the dict or list holding the text
    key: Any  # its key or index there
    json_string: bool = False  # tool-call arguments: a JSON document

    @property
    def text(self) -> str:
        value = self.container[self.key]
        return value if isinstance(value, str) else ""


@dataclass(slots=True)
class GuardState:
    """What the guards keep between the request and its answer (ctx.guard_state)."""

    policy: ResolvedPolicy
    pseudonyms: PseudonymMap
    output: OutputCheck | None
    pairs: list[str] = field(default_factory=list)  # "type:action" for the header


class GuardsStage(Stage):
    """Data-protection guardrails; see the module docstring."""

    name = "guards"

    def __init__(self, config: GuardsConfig, hash_key: bytes) -> None:
        self.config = config
        self._hasher = ValueHasher(hash_key)
        self._rules = ClassificationRules(config.classification_rules)
        self._policies = {
            name: ResolvedPolicy.build(name, pc, self._rules.types)
            for name, pc in config.policies.items()
        }
        self._scanners: dict[frozenset[str], EntityScanner] = {}
        self._caches: dict[frozenset[str], ScanCache] = {}
        for policy in self._policies.values():
            if policy.scanned_types not in self._scanners:
                self._scanners[policy.scanned_types] = EntityScanner(policy.scanned_types)
                self._caches[policy.scanned_types] = ScanCache(
                    config.scan_cache_entries, config.scan_cache_chars
                )
        self._detector = InjectionDetector()
        self._echoes: dict[tuple[int, tuple[str, ...]], EchoDetector | None] = {}
        self._echo_cache_entries = min(_ECHO_CACHE_ENTRIES, config.scan_cache_entries)
        self._deep: PersonRecognizer | None = None
        if any(p.deep_ner for p in self._policies.values()):
            deep = config.deep_ner
            self._deep = PersonRecognizer(deep.model, deep.min_score, deep.max_chars)

    # -- request -----------------------------------------------------------------------------

    def policy_for(self, ctx: RequestContext) -> ResolvedPolicy:
        """The project's policy (``guard_policy`` in its settings; unknown names fail closed to
        ``strict`` when it exists, else ``default``)."""
        name = ctx.project_settings.get("guard_policy", "default")
        policy = self._policies.get(name) if isinstance(name, str) else None
        if policy is None:
            policy = self._policies.get("strict") or self._policies["default"]
        return policy

    async def before_call(self, ctx: RequestContext) -> None:
        if not self.config.enabled:
            return
        policy = self.policy_for(ctx)
        segments = list(_segments(ctx))
        scanner = self._scanners[policy.scanned_types]
        cache = self._caches[policy.scanned_types]
        scanned: list[tuple[Segment, list[Finding]]] = []
        verdicts: list[tuple[Segment, Verdict]] = []
        for seg in segments:
            text = seg.text
            if not text:
                continue
            view: TextView | None = None
            result = cache.get(text)
            if result is None:
                view = TextView(text)
                result = ScanResult(tuple(scanner.scan(view)))
                cache.put(text, result)
            findings = [f for f in result.findings if f.confidence >= policy.min_confidence]
            if policy.deep_ner and self._deep is not None:
                view = view or TextView(text)
                people = await asyncio.to_thread(self._deep.find, text, guess_language(view.words))
                findings = resolve_overlaps(findings + people)
            scanned.append((seg, findings))
            if seg.role in policy.injection_roles:
                if result.verdict is None:
                    result.verdict = self._detector.score(view or TextView(text))
                if result.verdict.score >= policy.injection_threshold:
                    verdicts.append((seg, result.verdict))
        for _, findings in scanned:
            for f in findings:
                level = self._rules.level(f)
                if level is not None:
                    ctx.raise_classification(level, f"guards:{f.rule}")
        state = GuardState(policy=policy, pseudonyms=PseudonymMap(), output=None)
        ctx.guard_state = state
        table = policy.input_actions[ctx.classification]
        blocked: list[str] = []
        decided: list[tuple[Segment, list[Finding], list[Action]]] = []
        for seg, findings in scanned:
            actions = [table[f.type] for f in findings]
            for f, action in zip(findings, actions, strict=True):
                if action is Action.ALLOW:
                    continue
                ctx.findings.append(
                    f.record(self._hasher, action.value, seg.message_index, seg.role)
                )
                _add_pair(state.pairs, f"{f.type}:{action.value}")
                if action is Action.BLOCK:
                    blocked.append(f"{f.type} ({f.rule}) in message {seg.message_index}")
            decided.append((seg, findings, actions))
        injection_action = "block" if policy.injection_block else "log"
        for seg, verdict in verdicts:
            record = Finding(
                PROMPT_INJECTION, 0, len(seg.text), verdict.rule, verdict.score, seg.text
            )
            entry = record.record(self._hasher, injection_action, seg.message_index, seg.role)
            entry["signals"] = [f"{s.rule}@{s.reading}:{s.weight:.2f}" for s in verdict.signals]
            ctx.findings.append(entry)
            _add_pair(state.pairs, f"{PROMPT_INJECTION}:{injection_action}")
            if policy.injection_block:
                blocked.append(
                    f"{PROMPT_INJECTION} ({verdict.rule}, score {verdict.score:.2f}) "
                    f"in message {seg.message_index}"
                )
        ctx.response_headers[HEADER] = ",".join(state.pairs) or "none"
        if blocked:
            raise ContentPolicyViolation(
                f"Request blocked by guard policy '{policy.name}': " + "; ".join(blocked) + "."
            )
        echo = self._echo(segments, policy) if policy.output_enabled else None  # original text
        self._rewrite(state, decided)
        if policy.output_enabled:
            state.output = OutputCheck(
                scanner=scanner,
                policy=policy,
                classification=ctx.classification,
                input_keys=frozenset(
                    (f.type, canonical(f.type, f.value))
                    for _, findings in scanned
                    for f in findings
                    if f.type in PII_TYPES or f.type == SECRET
                ),
                echo=echo,
                refusal=self.config.refusal_message,
            )

    def _rewrite(
        self, state: GuardState, decided: list[tuple[Segment, list[Finding], list[Action]]]
    ) -> None:
        rewriting = [
            d for d in decided if any(a in (Action.MASK, Action.PSEUDONYMISE) for a in d[2])
        ]
        if not rewriting:
            return
        state.pseudonyms.reserve([seg.text for seg, _, _ in decided])
        for seg, findings, actions in rewriting:
            replacement: dict[int, str] = {}
            for i, (f, action) in enumerate(zip(findings, actions, strict=True)):
                if action is Action.PSEUDONYMISE:
                    replacement[i] = state.pseudonyms.placeholder(f.type, f.value)
                elif action is Action.MASK:
                    replacement[i] = mask(f.type)
            seg.container[seg.key] = rewrite(seg.text, findings, replacement)

    def _echo(self, segments: list[Segment], policy: ResolvedPolicy) -> EchoDetector | None:
        if policy.system_prompt_leak == "allow":
            return None
        system = tuple(s.text for s in segments if s.role in _SYSTEM_ROLES and s.text)
        if not system:
            return None
        # Built from the system prompt only, which repeats request after request: kept (LRU,
        # like the scan cache, and bounded by its character budget per prompt) rather than
        # rebuilt, which cost ~40 µs for a 450-character prompt.
        key = (policy.echo_ngram, system)
        if key in self._echoes:
            cached = self._echoes[key] = self._echoes.pop(key)  # now the most recently used
            return cached
        detector = EchoDetector(list(system), policy.echo_ngram)
        found = detector if detector else None
        if self._echo_cache_entries and sum(map(len, system)) <= self.config.scan_cache_chars:
            self._echoes[key] = found
            while len(self._echoes) > self._echo_cache_entries:
                del self._echoes[next(iter(self._echoes))]
        return found

    # -- answer ------------------------------------------------------------------------------

    async def on_response(self, ctx: RequestContext, response: dict[str, Any]) -> dict[str, Any]:
        state = ctx.guard_state
        if not isinstance(state, GuardState):
            return response
        for choice in response.get("choices") or []:
            message = choice.get("message")
            if not isinstance(message, dict):
                continue
            blocked = False
            content = message.get("content")
            if isinstance(content, str):
                restored = state.pseudonyms.restore(content)
                message["content"], blocked = self._check_answer(ctx, state, restored, choice)
            for call in message.get("tool_calls") or []:
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                    restored = state.pseudonyms.restore(fn["arguments"], json_string=True)
                    checked, stop = self._check_answer(ctx, state, restored, choice)
                    fn["arguments"] = restored if stop else checked
                    blocked = blocked or stop
            if blocked:
                message["content"] = self.config.refusal_message
                message.pop("tool_calls", None)
                choice["finish_reason"] = "content_filter"
        ctx.response_headers[HEADER] = ",".join(state.pairs) or "none"
        return response

    def _check_answer(
        self, ctx: RequestContext, state: GuardState, text: str, choice: dict[str, Any]
    ) -> tuple[str, bool]:
        if state.output is None:
            return text, False
        checked, decisions, blocked = state.output.check(text)
        for d in decisions:
            self._record_output(ctx, state, d.finding, d.action, choice.get("index", 0))
        return checked, blocked

    def _record_output(
        self, ctx: RequestContext, state: GuardState, f: Finding, action: Action, index: int
    ) -> None:
        entry = f.record(self._hasher, action.value, None, "assistant")
        entry["stage"] = "output"
        entry["choice"] = index
        ctx.findings.append(entry)
        _add_pair(state.pairs, f"out.{f.type}:{action.value}")

    def wrap_stream(
        self, ctx: RequestContext, chunks: AsyncIterator[Chunk]
    ) -> AsyncIterator[Chunk]:
        state = ctx.guard_state
        if not isinstance(state, GuardState):
            return chunks
        return self._guarded_stream(ctx, state, chunks)

    async def _guarded_stream(
        self, ctx: RequestContext, state: GuardState, chunks: AsyncIterator[Chunk]
    ) -> AsyncIterator[Chunk]:
        choices: dict[int, _ChoiceStream] = {}
        last: Chunk | None = None
        try:
            async for chunk in chunks:
                last = chunk
                for choice in chunk.get("choices") or []:
                    index = choice.get("index", 0)
                    cs = choices.get(index)
                    if cs is None:
                        cs = choices[index] = _ChoiceStream(
                            state, self.config.stream_holdback_chars
                        )
                    cs.process(choice)
                yield chunk
            for index, cs in choices.items():
                if not cs.finished and last is not None:
                    tail = cs.close()
                    if tail:
                        yield _tail_chunk(last, index, tail)
        finally:
            for index, cs in choices.items():
                if cs.guard is not None:
                    for d in cs.guard.decisions:
                        self._record_output(ctx, state, d.finding, d.action, index)


class _ChoiceStream:
    """Restore and output-check state of one streamed choice."""

    __slots__ = ("args", "finished", "guard", "restorer", "state")

    def __init__(self, state: GuardState, holdback: int) -> None:
        self.state = state
        self.restorer = StreamRestorer(state.pseudonyms)
        self.guard = StreamGuard(state.output, holdback) if state.output is not None else None
        self.args: dict[int, StreamRestorer] = {}
        self.finished = False

    def process(self, choice: dict[str, Any]) -> None:
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            delta = {}
        content = delta.get("content")
        if isinstance(content, str) and content:
            delta["content"] = self._text(self.restorer.feed(content))
        for call in delta.get("tool_calls") or []:
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                restorer = self.args.get(call.get("index", 0))
                if restorer is None:
                    restorer = StreamRestorer(self.state.pseudonyms, json_string=True)
                    self.args[call.get("index", 0)] = restorer
                fn["arguments"] = restorer.feed(fn["arguments"])
        if choice.get("finish_reason") is not None:
            tail = self.close()
            if tail:
                delta["content"] = (delta.get("content") or "") + tail
                choice["delta"] = delta
            held_args = [(i, r.flush()) for i, r in self.args.items()]
            extra = [{"index": i, "function": {"arguments": a}} for i, a in held_args if a]
            if extra:
                delta.setdefault("tool_calls", []).extend(extra)
                choice["delta"] = delta
            if self.guard is not None and self.guard.blocked:
                choice["finish_reason"] = "content_filter"

    def _text(self, text: str) -> str:
        return text if self.guard is None else self.guard.feed(text)

    def close(self) -> str:
        """Release everything held for this choice."""
        self.finished = True
        tail = self._text(self.restorer.flush())
        if self.guard is not None:
            tail += self.guard.finish()
        return tail


def _tail_chunk(last: Chunk, index: int, text: str) -> Chunk:
    """A content chunk for text still held when the upstream stream ended without a
    finish_reason for this choice."""
    chunk = {k: v for k, v in last.items() if k not in ("choices", "usage")}
    chunk["choices"] = [{"index": index, "delta": {"content": text}, "finish_reason": None}]
    return chunk


def _add_pair(pairs: list[str], pair: str) -> None:
    if pair not in pairs:
        pairs.append(pair)


def _segments(ctx: RequestContext) -> Iterator[Segment]:
    body = ctx.body
    if ctx.endpoint == "chat.completions":
        messages = body.get("messages")
        if not isinstance(messages, list):
            return
        for i, msg in enumerate(messages):
            if not isinstance(msg, dict):
                continue
            raw_role = msg.get("role")
            role = raw_role if isinstance(raw_role, str) else "user"
            content = msg.get("content")
            if isinstance(content, str):
                yield Segment(i, role, msg, "content")
            elif isinstance(content, list):
                for part in content:
                    if (
                        isinstance(part, dict)
                        and part.get("type") in _TEXT_PART_TYPES
                        and isinstance(part.get("text"), str)
                    ):
                        yield Segment(i, role, part, "text")
            calls = msg.get("tool_calls")
            fns = (
                [c.get("function") for c in calls if isinstance(c, dict)]
                if isinstance(calls, list)
                else []
            )
            if isinstance(msg.get("function_call"), dict):
                fns.append(msg["function_call"])
            for fn in fns:
                if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                    yield Segment(i, role, fn, "arguments", json_string=True)
    elif ctx.endpoint == "embeddings":
        value = body.get("input")
        if isinstance(value, str):
            yield Segment(0, "user", body, "input")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    yield Segment(i, "user", value, i)


__all__ = ["HEADER", "GuardState", "GuardsStage"]
