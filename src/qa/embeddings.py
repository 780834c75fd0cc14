"""Embedder protocol and its sentence-transformers backend (the only importer of that library)."""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.config import EmbedderSettings
from qa.errors import DependencyError
from qa.models import resolve_embedder

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, so inner product = cosine."""

    @property
    def name(self) -> str:
        """The model's name, recorded in the index manifest."""

    @property
    def sha256(self) -> str:
        """Checksum of the weights (+ backend): an index built by other weights is refused."""

    @property
    def dim(self) -> int:
        """Vector size."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, L2-normalised float32."""

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the model's vocabulary (chunk sizes are measured in these)."""


@dataclass
class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any sentence-transformers folder) on the CPU."""

    name: str
    path: Path
    sha256: str
    batch_size: int = 32

    _model: Any = field(default=None, init=False, repr=False)
    _counter: Any = field(default=None, init=False, repr=False)

    @property
    def model(self) -> Any:
        """The SentenceTransformer (imported lazily)."""
        """Load on first use: an unchanged re-ingest never pays the ~3 s model load."""
        if self._model is None:
            # Never let transformers reach for a model hub: weights come from disk only.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as err:  # pragma: no cover - depends on the environment
                raise DependencyError("sentence-transformers is not installed") from err
            self._model = SentenceTransformer(str(self.path), device="cpu")
        return self._model

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def tokenizer(self) -> Any:
        """The model's transformers tokenizer."""
        return self.model.tokenizer

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Encode in batches; sorted by length inside sentence-transformers to limit padding."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Word-piece tokens, without the [CLS]/[SEP] specials."""
        # The splitter calls this ~75 times per document: the Rust tokenizer directly is
        # ~4x faster than the transformers wrapper around it. A private copy, because
        # transformers sets padding/truncation on the shared one at each batch call.
        if self._counter is None:
            fast = getattr(self.tokenizer, "backend_tokenizer", None)
            if fast is None:
                return len(self.tokenizer.encode(text, add_special_tokens=False))
            from tokenizers import Tokenizer

            self._counter = Tokenizer.from_str(fast.to_str())
            self._counter.no_padding()
            self._counter.no_truncation()
        return len(self._counter.encode(text, add_special_tokens=False).ids)


def unique_texts(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Distinct texts and, for each input, the row of its text: boilerplate is embedded once."""
    rows: dict[str, int] = {}
    where = np.fromiter((rows.setdefault(t, len(rows)) for t in texts), dtype=np.int64,
                        count=len(texts))
    return list(rows), where


@dataclass
class OnnxEmbedder:
    """The same sentence-transformers weights run by ONNX Runtime, int8-quantised.

    On first use the model is exported from its safetensors to ONNX (mean pooling and L2
    normalisation inside the graph), its MatMul weights are quantised to int8 per channel,
    and the result is cached under ``cache_dir/onnx``; no model hub is involved. Measured on
    MedQuAD answers (``qa bench medquad``): about 2.5x the texts per second of plain
    sentence-transformers on 2 CPU cores, with cosine >= 0.99 to the float vectors.
    Texts are de-duplicated and sorted by length so each batch pads little.

    Once exported, neither torch nor transformers is loaded: the model folder's
    tokenizer.json runs in the Rust ``tokenizers`` library.
    """

    base: SentenceTransformerEmbedder
    cache_dir: Path
    batch_size: int = 32
    _session: Any = field(default=None, init=False, repr=False)
    _tokenizer: Any = field(default=None, init=False, repr=False)
    _counter: Any = field(default=None, init=False, repr=False)
    # One ONNX session and tokenizer pair; concurrent sessions embed one at a time (the
    # session already uses every core, and the lazy loaders above are not thread-safe).
    _lock: Any = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def name(self) -> str:
        return self.base.name

    @property
    def sha256(self) -> str:
        # Different vectors from the float model: an index built by one refuses the other.
        return f"{self.base.sha256}+onnx-int8"

    @functools.cached_property
    def dim(self) -> int:
        return int(json.loads((self.base.path / "config.json").read_text())["hidden_size"])

    @functools.cached_property
    def max_tokens(self) -> int:
        """The model's sequence limit (sentence_bert_config.json), as sentence-transformers
        truncates."""
        config = self.base.path / "sentence_bert_config.json"
        return int(json.loads(config.read_text())["max_seq_length"])

    def _tokenizers(self) -> tuple[Any, Any]:
        """(batch tokenizer: special tokens, truncation; counter: neither)."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            path = str(self.base.path / "tokenizer.json")
            self._tokenizer = Tokenizer.from_file(path)
            self._tokenizer.no_padding()
            self._tokenizer.enable_truncation(self.max_tokens)
            self._counter = Tokenizer.from_file(path)
            self._counter.no_padding()
            self._counter.no_truncation()
        return self._tokenizer, self._counter

    def count_tokens(self, text: str) -> int:
        """Word-piece tokens, without the [CLS]/[SEP] specials."""
        return len(self._tokenizers()[1].encode(text, add_special_tokens=False).ids)

    @property
    def session(self) -> Any:
        """The onnxruntime InferenceSession, exported and opened on first use."""
        if self._session is None:
            from qa.onnx_export import load_session

            self._session = load_session(lambda: self.base.model, self.base.sha256,
                                         self.cache_dir)
        return self._session

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Encode distinct texts, longest-first batches of similar length, then scatter back."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return self._embed(texts)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        distinct, where = unique_texts(texts)
        encoded = [e.ids for e in self._tokenizers()[0].encode_batch(distinct)]
        order = np.argsort([-len(ids) for ids in encoded], kind="stable")
        out = np.zeros((len(distinct), self.dim), dtype=np.float32)
        names = [i.name for i in self.session.get_inputs()]
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(encoded[i]) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)  # [PAD] is id 0
            mask = np.zeros_like(ids)
            for r, i in enumerate(rows):
                ids[r, : len(encoded[i])] = encoded[i]
                mask[r, : len(encoded[i])] = 1
            feed = dict(zip(names, (ids, mask, np.zeros_like(ids)), strict=False))
            out[rows] = self.session.run(None, feed)[0]
        return np.ascontiguousarray(out[where])


def load_embedder(
    cfg: EmbedderSettings, cache_dir: Path | None = None
) -> SentenceTransformerEmbedder | OnnxEmbedder:
    """Resolve, checksum-verify and load the configured embedder (and backend)."""
    from qa.config import default_cache_dir

    cache_dir = cache_dir or default_cache_dir()
    name, path, sha = resolve_embedder(cfg.model, cache_dir)
    log.info("embedder: %s (%s, %s)", name, path, cfg.backend)
    base = SentenceTransformerEmbedder(name=name, path=path, sha256=sha, batch_size=cfg.batch_size)
    if cfg.backend == "onnx":
        return OnnxEmbedder(base, cache_dir, batch_size=cfg.batch_size)
    return base
