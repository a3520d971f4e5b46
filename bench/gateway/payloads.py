"""What the benchmark sends and what the mock upstreams answer.

One request body per scenario, the same for every system, so the only difference between two
runs is the server under test. The texts are French business prose; the ``pii`` body adds
synthetic personal data (an example e-mail, a test phone number and a published sample IBAN) to
exercise pseudonymisation.
"""

from __future__ import annotations

from typing import Any

import orjson

CHAT_MODEL = "bench-chat"
"""Logical model served by the nginx JSON location (non-streaming)."""
STREAM_MODEL = "bench-chat-stream"
"""Logical model served by the nginx fixed SSE location (streaming throughput)."""
PACED_MODEL = "bench-chat-paced"
"""Logical model served by the paced Python SSE upstream (TTFT and per-chunk latency)."""
UPSTREAM_MODEL = "gpt-4o-mini"

_SYSTEM = (
    "Tu es l'assistant des équipes commerciales d'une PME industrielle. "
    "Réponds en français, de façon concise et professionnelle."
)
_USER = (
    "Peux-tu rédiger un court message pour informer nos clients que les délais de livraison "
    "des pièces détachées passent de 5 à 8 jours ouvrés à partir du mois prochain, en raison "
    "de la réorganisation de notre entrepôt de Lyon ? Propose aussi deux formulations pour "
    "la ligne d'objet."
)
_USER_PII = (
    "Peux-tu rédiger une réponse à Claire Martin (claire.martin@example.com, 06 12 34 56 78) "
    "qui demande le remboursement de sa commande 4471 ? Le virement partira vers l'IBAN "
    "FR76 3000 6000 0112 3456 7890 189 sous cinq jours ouvrés ; reste courtois et rappelle "
    "nos conditions générales de vente."
)

SCENARIOS = ("chat", "pii", "stream")
"""``chat``: plain request; ``pii``: with personal data; ``stream``: ``stream: true``."""

SERIAL = "@SERIAL@"
"""Placeholder in the user message that the load generator replaces with a request number.

Real traffic never sends the same question twice, while the system prompt and the earlier
turns of a conversation do come back: with a serial in the last user message, Socle's scan
cache (which keeps the results of texts seen before) helps the system prompt only, as it would
in production, instead of hiding the cost of scanning the question."""


def request_body(scenario: str, *, marker: str | None = None, serial: str = "0") -> dict[str, Any]:
    """The OpenAI chat request of a scenario; ``marker`` tags a paced stream for its timings;
    ``serial`` numbers the question (see :data:`SERIAL`)."""
    user = (_USER_PII if scenario == "pii" else _USER) + f" (demande n° {serial})"
    body: dict[str, Any] = {
        "model": CHAT_MODEL,
        "messages": [
            {"role": "system", "content": _SYSTEM},
            {"role": "user", "content": user if marker is None else f"{user} [{marker}]"},
        ],
        "temperature": 0.3,
        "max_tokens": 256,
    }
    if scenario == "stream":
        body["model"] = STREAM_MODEL if marker is None else PACED_MODEL
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def request_bytes(scenario: str) -> bytes:
    """``request_body`` serialised once (question number 0), for single check requests."""
    return orjson.dumps(request_body(scenario))


def request_template(scenario: str) -> bytes:
    """``request_body`` serialised with :data:`SERIAL` where each request puts its number."""
    return orjson.dumps(request_body(scenario, serial=SERIAL))


_ANSWER = (
    "Objet : évolution de nos délais de livraison. Madame, Monsieur, afin d'améliorer la "
    "qualité de service, notre entrepôt de Lyon est en cours de réorganisation. À compter du "
    "mois prochain, les pièces détachées seront livrées sous 8 jours ouvrés au lieu de 5. "
    "Nous vous remercions de votre compréhension et restons à votre disposition."
)
_CREATED = 1_700_000_000
_USAGE = {"prompt_tokens": 118, "completion_tokens": 74, "total_tokens": 192}


def completion_bytes() -> bytes:
    """A valid ``chat.completion`` answer, with usage."""
    return orjson.dumps(
        {
            "id": "chatcmpl-bench-0001",
            "object": "chat.completion",
            "created": _CREATED,
            "model": UPSTREAM_MODEL,
            "system_fingerprint": "fp_bench",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": _ANSWER},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": _USAGE,
        }
    )


def stream_pieces(count: int) -> list[str]:
    """``count`` content deltas of one word each, as token-by-token upstreams send them.

    The words of the answer are reused from the start when ``count`` exceeds them.
    """
    words = _ANSWER.split(" ")
    return [words[i % len(words)] + " " for i in range(count)]


def _chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-bench-0002",
        "object": "chat.completion.chunk",
        "created": _CREATED,
        "model": UPSTREAM_MODEL,
        "system_fingerprint": "fp_bench",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def sse_event(obj: dict[str, Any]) -> bytes:
    """One server-sent event carrying a JSON object."""
    return b"data: " + orjson.dumps(obj) + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"


def stream_events(count: int) -> tuple[bytes, list[bytes], bytes]:
    """A chat stream as (role event, ``count`` content events, closing events).

    The closing part is the finish_reason chunk, the usage chunk (``choices: []``) and
    ``[DONE]``, as OpenAI sends them with ``stream_options.include_usage``.
    """
    head = sse_event(_chunk({"role": "assistant", "content": ""}, None))
    body = [sse_event(_chunk({"content": piece}, None)) for piece in stream_pieces(count)]
    usage = {**_chunk({}, None), "choices": [], "usage": _USAGE}
    tail = sse_event(_chunk({}, "stop")) + sse_event(usage) + SSE_DONE
    return head, body, tail


def stream_bytes(count: int) -> bytes:
    """The whole stream of ``stream_events`` as one body (for nginx)."""
    head, body, tail = stream_events(count)
    return head + b"".join(body) + tail
