"""A real server per module, on the simulator, with the official OpenAI SDK as the client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.support.server import SocleServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SocleServer]:
    with SocleServer(tmp_path_factory.mktemp("socle")) as running:
        yield running


@pytest.fixture(scope="module")
def member_key(server: SocleServer) -> dict[str, Any]:
    return server.create_key()


@pytest.fixture(scope="module")
def client(server: SocleServer, member_key: dict[str, Any]) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=member_key["key"], max_retries=0)


@pytest.fixture(scope="module")
def aclient(server: SocleServer, member_key: dict[str, Any]) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=f"{server.base_url}/v1", api_key=member_key["key"], max_retries=0
    )
