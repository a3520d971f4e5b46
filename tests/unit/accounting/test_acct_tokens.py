"""The offline token estimator: exact framing, and counts close to cl100k_base.

The reference counts below were measured once with tiktoken's cl100k_base (offline data file);
``python bench/accounting_overhead.py tokens`` re-measures the error on a larger corpus.
"""

from __future__ import annotations

import pytest

from socle.accounting import tokens
from socle.accounting.tokens import (
    estimate_completion,
    estimate_messages,
    estimate_prompt,
    estimate_text,
)

REFERENCE = [
    ("The quick brown fox jumps over the lazy dog.", 10),
    ("Bonjour, pouvez-vous résumer ce document en trois points ?", 12),
    ("def add(a: int, b: int) -> int:\n    return a + b\n", 19),
    ('{"id": 42, "name": "Alice", "tags": ["a", "b"]}', 21),
    ("Le montant total s'élève à 1 234,56 euros TTC au 31/12/2026.", 26),
]


def test_empty_text_is_zero_and_any_text_is_at_least_one() -> None:
    assert estimate_text("") == 0
    assert estimate_text("a") == 1


@pytest.mark.parametrize(("text", "cl100k"), REFERENCE)
def test_estimate_is_within_thirty_percent_of_cl100k(text: str, cl100k: int) -> None:
    estimate = estimate_text(text)
    assert abs(estimate - cl100k) <= max(2, 0.3 * cl100k), (estimate, cl100k)


def test_estimate_grows_linearly_with_text() -> None:
    one = estimate_text(REFERENCE[1][0] + " ")
    hundred = estimate_text((REFERENCE[1][0] + " ") * 100)
    assert 95 * one <= hundred <= 101 * one


def test_chat_framing_adds_per_message_and_priming_tokens() -> None:
    messages = [
        {"role": "system", "content": "Tu es concis."},
        {"role": "user", "content": "Bonjour", "name": "alice"},
    ]
    expected = (
        tokens.REPLY_PRIMING
        + 2 * tokens.MESSAGE_OVERHEAD
        + tokens.NAME_OVERHEAD
        + estimate_text("Tu es concis.")
        + estimate_text("Bonjour")
    )
    assert estimate_messages(messages) == expected


def test_prompt_counts_images_tools_and_embedding_inputs() -> None:
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Décris"},
                    {"type": "image_url", "image_url": {"url": "data:..."}},
                ],
            }
        ],
        "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
    }
    with_tools = estimate_prompt("chat.completions", body)
    assert with_tools > tokens.IMAGE_TOKENS + estimate_text("Décris")
    assert estimate_prompt("embeddings", {"input": ["un", "deux"]}) == 2
    assert estimate_prompt("embeddings", {"input": [[1, 2, 3], [4]]}) == 4


def test_completion_counts_text_and_tool_calls() -> None:
    response = {
        "choices": [
            {
                "message": {
                    "content": "Voici.",
                    "tool_calls": [{"function": {"name": "f", "arguments": '{"x": 1}'}}],
                }
            }
        ]
    }
    assert estimate_completion(response) > estimate_text("Voici.")
    assert estimate_completion({"choices": "bad"}) == 0
