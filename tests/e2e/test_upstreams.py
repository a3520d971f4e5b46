"""The OpenAI SDK through Socle to mock upstreams that speak OpenAI's and Anthropic's wire
formats (JSON and SSE): translation, pass-through, governance before the upstream, failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.support.mock_upstreams import AnthropicMockUpstream, OpenAIMockUpstream, Reply, ToolCall
from tests.support.openai_schema import validate
from tests.support.server import SocleServer
from tests.support.threaded import LoopThread

pytestmark = pytest.mark.e2e

OPENAI_KEY = "sk-upstream-openai-" + "o" * 20
ANTHROPIC_KEY = "sk-ant-upstream-" + "a" * 20


class Upstreams:
    def __init__(self, loop: LoopThread, gpt: OpenAIMockUpstream, claude: AnthropicMockUpstream):
        self.loop = loop
        self.gpt = gpt
        self.claude = claude

    def enqueue(self, mock: Any, *replies: Reply) -> None:
        self.loop.run(lambda: mock.enqueue(*replies))


@pytest.fixture(scope="module")
def upstreams() -> Iterator[Upstreams]:
    with LoopThread() as loop:
        gpt = loop.call(OpenAIMockUpstream(api_key=OPENAI_KEY).__aenter__())
        claude = loop.call(AnthropicMockUpstream(api_key=ANTHROPIC_KEY).__aenter__())
        try:
            yield Upstreams(loop, gpt, claude)
        finally:
            loop.call(gpt.close())
            loop.call(claude.close())


def deployment(deployment_id: str, endpoint: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": deployment_id, "endpoint": endpoint, **extra}


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, upstreams: Upstreams
) -> Iterator[SocleServer]:
    gpt = {
        "provider": "openai_compat",
        "upstream_model": "gpt-4o-mini",
        "base_url": upstreams.gpt.base_url,
        "api_key_env": "MOCK_OPENAI_KEY",
        "timeouts": {"connect": 2, "read": 2, "total": 5},
    }
    claude = {
        "provider": "anthropic",
        "upstream_model": "claude-sonnet-4-5",
        "base_url": upstreams.claude.base_url,
        "api_key_env": "MOCK_ANTHROPIC_KEY",
    }
    sim = {"provider": "simulator", "upstream_model": "sim-small"}
    config = {
        "routing": {
            "retry": {"max_attempts": 2, "backoff_base_s": 0.01, "backoff_max_s": 0.02},
            "models": [
                {
                    "name": "gpt",
                    "deployments": [
                        deployment(
                            "gpt-cloud",
                            gpt,
                            location="public_cloud",
                            jurisdiction="US",
                            max_classification="internal",
                        )
                    ],
                },
                {
                    "name": "claude",
                    "deployments": [
                        deployment(
                            "claude-cloud",
                            claude,
                            location="public_cloud",
                            jurisdiction="US",
                            max_classification="internal",
                        )
                    ],
                },
                {
                    "name": "hybrid",
                    "deployments": [
                        deployment(
                            "hybrid-cloud",
                            gpt,
                            location="public_cloud",
                            jurisdiction="US",
                            max_classification="internal",
                        ),
                        deployment(
                            "hybrid-onprem",
                            sim,
                            location="on_prem",
                            max_classification="secret",
                            priority=1,
                        ),
                    ],
                },
            ],
        }
    }
    env = {"MOCK_OPENAI_KEY": OPENAI_KEY, "MOCK_ANTHROPIC_KEY": ANTHROPIC_KEY}
    with SocleServer(tmp_path_factory.mktemp("upstreams"), config, env=env) as server:
        yield server


@pytest.fixture(scope="module")
def sdk(gateway: SocleServer) -> openai.OpenAI:
    key = gateway.create_key()["key"]
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=key, max_retries=0)


def test_openai_compatible_upstream(sdk: openai.OpenAI, upstreams: Upstreams) -> None:
    raw = sdk.chat.completions.with_raw_response.create(
        model="gpt",
        messages=[{"role": "user", "content": "Bonjour"}],
        temperature=0.1,
        extra_body={"logit_bias": {"42": -1}, "vendor_flag": True},
    )
    validate(raw.http_response.json(), "CreateChatCompletionResponse")
    answer = raw.parse()
    assert answer.choices[0].message.content == "Hello from the mock upstream."
    assert answer.model == "gpt"
    received = upstreams.gpt.requests[-1]
    assert received.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert received.body["model"] == "gpt-4o-mini"
    assert received.body["vendor_flag"] is True  # unknown fields pass through
    assert received.body["logit_bias"] == {"42": -1}
    assert raw.headers["x-socle-deployment"] == "gpt-cloud"
    assert raw.headers["x-socle-location"] == "public_cloud"


def test_openai_compatible_stream(sdk: openai.OpenAI, upstreams: Upstreams) -> None:
    stream = sdk.chat.completions.create(
        model="gpt",
        messages=[{"role": "user", "content": "Bonjour"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the mock upstream."
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


def test_anthropic_translation(sdk: openai.OpenAI, upstreams: Upstreams) -> None:
    answer = sdk.chat.completions.create(
        model="claude",
        messages=[
            {"role": "system", "content": "Réponds brièvement."},
            {"role": "user", "content": "Bonjour"},
        ],
        max_tokens=100,
    )
    assert answer.choices[0].message.content == "Hello from the mock Claude."
    assert answer.choices[0].finish_reason == "stop"
    sent = upstreams.claude.requests[-1]
    assert sent.path.endswith("/messages")
    assert sent.headers["x-api-key"] == ANTHROPIC_KEY
    assert sent.body["system"] == "Réponds brièvement."
    assert sent.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Bonjour"}]}
    ]
    assert sent.body["max_tokens"] == 100

    stream = sdk.chat.completions.create(
        model="claude", messages=[{"role": "user", "content": "Bonjour"}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Hello from the mock Claude."


def test_anthropic_tool_calls(sdk: openai.OpenAI, upstreams: Upstreams) -> None:
    upstreams.enqueue(
        upstreams.claude, Reply(tool_calls=(ToolCall("get_weather", {"city": "Lyon"}),))
    )
    answer = sdk.chat.completions.create(
        model="claude",
        messages=[{"role": "user", "content": "Weather in Lyon?"}],
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
            }
        ],
    )
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Lyon"}
    assert upstreams.claude.requests[-1].body["tools"][0]["input_schema"]["type"] == "object"


def test_personal_data_never_reaches_the_cloud_in_clear(
    sdk: openai.OpenAI, upstreams: Upstreams
) -> None:
    raw = sdk.chat.completions.with_raw_response.create(
        model="gpt",
        messages=[
            {"role": "user", "content": "Écris à jeanne.martin@example.fr au 06 12 34 56 78."}
        ],
    )
    sent = upstreams.gpt.requests[-1].raw.decode()
    assert "jeanne.martin@example.fr" not in sent
    assert "06 12 34 56 78" not in sent
    assert "email:pseudonymise" in raw.headers["x-socle-guard"]


def test_confidential_data_stays_on_prem(sdk: openai.OpenAI, upstreams: Upstreams) -> None:
    before = len(upstreams.gpt.requests)
    raw = sdk.chat.completions.with_raw_response.create(
        model="hybrid",
        messages=[{"role": "user", "content": "Synthèse du dossier"}],
        extra_headers={"X-Socle-Classification": "confidential"},
    )
    assert raw.headers["x-socle-deployment"] == "hybrid-onprem"
    assert raw.headers["x-socle-classification"] == "confidential"
    assert len(upstreams.gpt.requests) == before  # the cloud never saw it

    public = sdk.chat.completions.with_raw_response.create(
        model="hybrid", messages=[{"role": "user", "content": "Bonjour"}]
    )
    assert public.headers["x-socle-deployment"] == "hybrid-cloud"


def test_confidential_with_no_allowed_deployment_is_refused(
    sdk: openai.OpenAI, upstreams: Upstreams
) -> None:
    before = len(upstreams.gpt.requests)
    with pytest.raises(openai.APIStatusError) as info:
        sdk.chat.completions.create(
            model="gpt",
            messages=[{"role": "user", "content": "Rapport"}],
            extra_headers={"X-Socle-Classification": "secret"},
        )
    assert info.value.status_code == 503
    assert "secret" in str(info.value)
    assert len(upstreams.gpt.requests) == before


def test_upstream_failures_map_to_502_and_504(
    gateway: SocleServer, sdk: openai.OpenAI, upstreams: Upstreams
) -> None:
    upstreams.enqueue(upstreams.gpt, Reply(status=500), Reply(status=500))
    with pytest.raises(openai.APIStatusError) as failed:
        sdk.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "x"}])
    assert failed.value.status_code == 502
    assert OPENAI_KEY not in str(failed.value.body)

    upstreams.enqueue(upstreams.gpt, Reply(delay=3), Reply(delay=3))
    response = httpx.post(
        f"{gateway.base_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {sdk.api_key}"},
        json={"model": "gpt", "messages": [{"role": "user", "content": "x"}]},
        timeout=30,
    )
    assert response.status_code == 504, response.text
    validate(response.json(), "ErrorResponse")


def test_stream_falls_back_before_the_first_byte(sdk: openai.OpenAI, upstreams: Upstreams) -> None:
    upstreams.enqueue(upstreams.gpt, Reply(status=503), Reply(status=503))
    stream = sdk.chat.completions.create(
        model="hybrid", messages=[{"role": "user", "content": "Bonjour"}], stream=True
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
