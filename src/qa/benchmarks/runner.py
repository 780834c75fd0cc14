"""What every suite shares: settings, data location, cached benchmark indexes, models."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.cleaning import CLEANING_VERSION
from qa.config import Settings
from qa.embeddings import Embedder, load_embedder
from qa.index import Index, current_generation, open_index
from qa.ingestion import index_documents
from qa.llm import Generator
from qa.types import Document

if TYPE_CHECKING:
    from qa.answer import Assistant

log = logging.getLogger(__name__)


@dataclass
class BenchContext:
    """One `qa bench` invocation. Models load lazily and are shared by the suites."""

    settings: Settings
    data_dir: Path
    index_root: Path
    limit: int | None = None
    progress: bool = False
    generate: bool = True
    generate_sample: int = 100
    compare: bool = False  # MedicationQA: also score the retrieval variants (comparison.py)
    split: str = "test"  # PubMedQA: the split scored ("dev" also fits the label offsets)
    chunks: int = 1_000_000  # scale: vectors in the synthetic index
    stores: tuple[str, ...] = ()  # scale: only configurations whose names start with these
    embedder: Embedder | None = None
    generator: Generator | None = None
    _built: dict[str, float] = field(default_factory=dict, repr=False)

    def get_embedder(self) -> Embedder:
        if self.embedder is None:
            self.embedder = load_embedder(self.settings.embedder, self.settings.cache_dir)
        return self.embedder

    def get_generator(self) -> Generator:
        if self.generator is None:
            from qa.llm import load_generator

            self.generator = load_generator(self.settings.llm, self.settings.cache_dir)
        return self.generator

    def models(self, with_llm: bool) -> dict[str, str]:
        out = {"embedder": self.settings.embedder.model,
               "embedder_backend": self.settings.embedder.backend}
        if with_llm:
            out["llm"] = self.settings.llm.model
        return out

    def assistant_for(self, index: Index) -> Assistant:
        """An Assistant over a benchmark index, sharing this run's embedder and LLM."""
        from qa.answer import Assistant
        from qa.prompts import load_prompts
        from qa.retrieval import Retriever

        embedder = self.get_embedder()
        return Assistant(self.settings, index, embedder, self.get_generator(),
                         load_prompts(self.settings.prompts_dir),
                         Retriever(index, embedder, self.settings.retrieval))

    def settings_dump(self) -> dict[str, Any]:
        return self.settings.model_dump(
            mode="json", include={"embedder", "llm", "chunking", "store", "retrieval", "answer"}
        )

    def last_build_seconds(self, name: str) -> float | None:
        """Seconds the last build of index ``name`` took in this run (None: reused)."""
        return self._built.get(name)

    def build_seconds(self, name: str) -> float | None:
        """Seconds the last build of index ``name`` took, in this run or an earlier one."""
        if name in self._built:
            return self._built[name]
        try:
            return float((self.index_root / name / "build.seconds").read_text())
        except (OSError, ValueError):
            return None

    def index_for(self, name: str, documents: list[Document], rebuild: bool = False) -> Index:
        """Build (or reuse, when corpus, embedder and chunking are unchanged) a named index."""
        embedder = self.get_embedder()
        index_dir = self.index_root / name
        key = corpus_key(documents, embedder, self.settings)
        key_file = index_dir / "corpus.key"
        fresh = key_file.is_file() and key_file.read_text() == key
        if rebuild or not (fresh and current_generation(index_dir)):
            report = index_documents(documents, index_dir, embedder, self.settings.chunking,
                                     store_cfg=self.settings.store, progress=self.progress)
            self._built[name] = report.seconds
            (index_dir / "build.seconds").write_text(f"{report.seconds:.3f}\n")
            key_file.write_text(key)
        return open_index(index_dir, embedder.name, embedder.sha256, self.settings.store)


def corpus_key(documents: list[Document], embedder: Embedder, settings: Settings) -> str:
    """Hash of what an index depends on: documents, embedder, chunking, the cleaning
    version and the store backend (an index ingestion would rebuild is never reused)."""
    digest = hashlib.sha256()
    # The token count of a fixed probe catches a changed tokenizer (chunk boundaries move).
    probe = embedder.count_tokens("Metformin 500 mg: take with meals, twice daily. " * 8)
    digest.update(json.dumps([embedder.name, embedder.sha256, probe,
                              settings.chunking.model_dump(mode="json"), CLEANING_VERSION,
                              settings.store.backend]).encode())
    for doc in documents:
        digest.update(f"{doc.doc_id}\x00{doc.title}\x00{doc.sha256}\x00{doc.sections}".encode())
    return digest.hexdigest()
