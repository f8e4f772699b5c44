"""Fixtures of the parser tests: one converted SmolLM2 copy shared by every run, a chat-completions server."""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from features.catalog import Catalog, demo_catalog
from models.targeting.parser import ParserConfig


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return demo_catalog()


@pytest.fixture(scope="session")
def model_cache() -> Path:
    # The GGUF → transformers conversion takes about a minute on two cores; later runs reuse the copy.
    path = Path(tempfile.gettempdir()) / "mds-test-cache"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def parser_config(model_cache: Path) -> ParserConfig:
    return ParserConfig(cache_dir=model_cache)


class FakeOpenAI(BaseHTTPRequestHandler):
    """A chat-completions endpoint on a real socket: answers ``answers`` in turn, or ``answer_for(body)``."""

    url: str = ""
    answers: list[str] = []
    answer_for: Callable[[dict], str] | None = None
    requests: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        n = int(body.get("n", 1))
        answer_for = type(self).answer_for
        texts = [answer_for(body) if answer_for else self.answers[i % len(self.answers)] for i in range(n)]
        choices = [{"index": i, "message": {"role": "assistant", "content": texts[i]},
                    "finish_reason": "stop"} for i in range(n)]
        payload = json.dumps({"id": "x", "object": "chat.completion", "choices": choices}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def fake_openai() -> Iterator[type[FakeOpenAI]]:
    """A fresh endpoint per test; set ``.answers`` or ``.answer_for``, read ``.requests``, call ``.url``."""
    handler = type("Endpoint", (FakeOpenAI,), {"answers": [], "answer_for": None, "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield handler
    server.shutdown()
    server.server_close()
