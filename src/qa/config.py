"""Typed settings: one sub-model per stage. The only module that reads environment variables.

Precedence, highest first: keyword arguments, ``QA_*`` environment variables (nested with
``__``, e.g. ``QA_LLM__MODEL=/models/my.gguf``), the TOML file named by ``QA_CONFIG`` (or
``./qa.toml`` when present), then the defaults below.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def default_cache_dir() -> Path:
    """Where provisioned models live; shared by every checkout on this machine."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa"


class _Stage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmbedderSettings(_Stage):
    model: str = Field(
        "all-MiniLM-L6-v2",
        description="A known embedder name (see `qa models list`) or a path to a "
        "sentence-transformers model folder. all-mpnet-base-v2 is known too (install its "
        "five PyPI parts): on the MedicationQA dev half (`qa bench medicationqa --compare`) "
        "it ranked a little better as a float torch model (MRR@10 0.832 vs 0.814, hit@5 "
        "0.922 vs 0.925) but took 47 ms per query (p99 72 ms, over the 50 ms budget) and "
        "24x the indexing time; int8 ONNX mpnet ranked worse than MiniLM (0.796).",
    )
    batch_size: int = Field(32, ge=1, description="Texts per encoding batch.")
    backend: Literal["torch", "onnx"] = Field(
        "onnx",
        description="'onnx' runs an ONNX Runtime export of the same weights (made once, "
        "locally, into the cache); 'torch' runs sentence-transformers as is.",
    )


class LLMSettings(_Stage):
    backend: Literal["llama_cpp", "remote"] = Field(
        "llama_cpp",
        description="'llama_cpp' runs the GGUF in this process; 'remote' calls an "
        "OpenAI-compatible completions server (llama.cpp's server, vLLM) at base_url with the "
        "same ChatML text, so many users share one generation server.",
    )
    model: str = Field(
        "qwen2.5-coder-1.5b",
        description="A known model name (see `qa models list`) or a path to a .gguf file; "
        "with the remote backend, the model name the server is asked for.",
    )
    base_url: str = Field(
        "", description="Remote backend: the server's OpenAI API root, e.g. "
        "'http://gen-host:8080/v1'."
    )
    api_key: SecretStr | None = Field(
        None, description="Remote backend: bearer token; set QA_LLM__API_KEY in the "
        "environment rather than in a file."
    )
    timeout_s: float = Field(120.0, gt=0, description="Remote backend: seconds per request.")
    n_ctx: int = Field(4096, ge=512, description="Context window in tokens.")
    n_threads: int | None = Field(None, description="CPU threads; default: all cores.")
    use_mmap: bool = Field(
        False,
        description="Map the GGUF file instead of reading it. llama.cpp repacks most weights "
        "for the CPU into memory of its own, so a mapping keeps a second copy resident: "
        "reading costs about 590 MB less peak memory with the 1.5B model (same text).",
    )
    max_tokens: int = Field(320, ge=16, description="Upper bound on answer length in tokens.")
    temperature: float = Field(0.0, ge=0.0, description="0 = greedy, reproducible answers.")
    seed: int = Field(0, description="Sampling seed, for reproducible runs.")
    repeat_penalty: float = Field(
        1.0, gt=0.0,
        description="Penalty on recently generated tokens (1.0 = none). Sent to a remote "
        "server too, whose own default (1.1 in llama-cpp-python's) would change the text.",
    )
    splice: bool = Field(
        False,
        description="Answer from precomputed KV blocks of the evidence sentences (computed "
        "by `qa ingest`, kept under cache_dir/kv/blocks): only the question and each "
        "excerpt's first llm.splice_refresh tokens are computed when it arrives. Off by "
        "default: it costs answer quality. Dev split, 1.5B model: first token 1.11 s vs "
        "2.49 s (median), key-fact recall 0.838 vs 0.870, refusal accuracy 1.0 vs 0.947, "
        "follow-up accuracy 1.0 vs 0.917 (eval/reports/splice-dev-20261204.md).",
    )
    splice_refresh: int = Field(
        8, ge=0, le=64,
        description="With llm.splice: tokens at the start of each excerpt recomputed with "
        "the excerpts before it and its marker in view (a block was computed alone). Dev "
        "key-fact recall by tokens: 0 -> 0.775, 4 -> 0.815, 8 -> 0.838, 12 -> 0.828, "
        "16 -> 0.848 (computed evidence: 0.870); first token 0.55, 0.88, 1.11, 1.16, 1.46 s.",
    )
    parallel: int = Field(
        1, ge=1, le=16,
        description="Answers the model decodes together (continuous batching); the others "
        "wait in arrival order. 1 serves the p95 best on a 2-core CPU: decoding is nearly "
        "compute-bound there (four sequences give 1.28x the tokens/s of one) and each new "
        "prompt's prefill stalls the others. 4 clients at once, 1.5B model: p95 15.5 s "
        "serial vs 19.1 s with 4 in parallel (eval/reports/bench-concurrency-20261204-"
        "210119.md). Answers decoded together can differ in wording from the same question "
        "alone.",
    )
    flash_attn: bool = Field(
        False, description="llama.cpp's flash attention on the CPU: 2386 vs 2426 ms to the "
        "first token, 1.5B model (eval/reports/speed-20261204-204406.md).",
    )
    kv_type: Literal["f16", "q8_0", "q4_0"] = Field(
        "f16",
        description="Number type of the KV cache (keys and values; a quantised one turns on "
        "flash attention, which llama.cpp needs for quantised values). A smaller cache, but "
        "slower on a CPU: q8_0, 1.5B model, first token 3.93 s vs 3.03 s median, same run "
        "(eval/reports/speed-20261206-003225.md).",
    )
    repack: bool | None = Field(
        None,
        description="Let llama.cpp repack the weights for its CPU matrix kernels when it "
        "loads them. None: only on CPUs without AVX-512. Measured with the 1.5B model on an "
        "AVX-512 AMD EPYC: repacked, load 2.0 s, prefill 88-100 tok/s, decode 25-28 tok/s; "
        "not repacked, load 0.4 s, prefill 126-138 tok/s, decode 23 tok/s.",
    )


class ChunkSettings(_Stage):
    chunk_tokens: int = Field(
        200, ge=32,
        description="Chunk size in embedder tokens (MiniLM truncates at 256, mpnet at 384). "
        "Sizes 128/200/256 x overlaps 0/40/80 moved MedicationQA dev MRR@10 within "
        "0.795-0.820 (200/40: 0.814), hit@5 within 0.922-0.928: noise on 319 questions.",
    )
    overlap_tokens: int = Field(40, ge=0, description="Tokens shared by neighbouring chunks.")
    near_duplicate: float = Field(
        0.96, gt=0.0, le=1.0, description="Cosine similarity above which a chunk is dropped."
    )


class StoreSettings(_Stage):
    backend: Literal["faiss", "milvus"] = Field(
        "faiss",
        description="Vector store behind retrieval (see qa.vectorstore): 'faiss' files in the "
        "index generation, or 'milvus' (Milvus Lite file there, or a server: milvus_uri).",
    )
    index: Literal["auto", "flat", "hnsw", "ivf"] = Field(
        "auto",
        description="Index type: 'auto' searches exactly up to exact_limit vectors and with "
        "an IVF index above it (chosen with `qa bench scale`); or one type for every size.",
    )
    exact_limit: int = Field(
        200_000, ge=0,
        description="Up to this many vectors 'auto' searches exactly (flat: about a "
        "millisecond at 30k MiniLM vectors); above it, an IVF index keeps queries sub-linear.",
    )
    hnsw_m: int = Field(32, ge=4, description="HNSW graph degree.")
    hnsw_ef_construction: int = Field(40, ge=4, description="HNSW build breadth.")
    hnsw_ef_search: int = Field(128, ge=1, description="HNSW search breadth.")
    ivf_nlist: int = Field(
        0, ge=0, description="IVF clusters; 0: 4 x sqrt(vectors), at least 1."
    )
    ivf_nprobe: int = Field(
        64, ge=1, description="IVF clusters searched per query (at a million vectors, "
        "nlist 4,000: 32 gave recall@10 0.948, 64 gave 0.974 at a p99 of 13 ms).")
    milvus_uri: str = Field(
        "",
        description="Milvus server or cluster, e.g. 'http://host:19530'; empty: a Milvus "
        "Lite file (milvus.db) inside each index generation.",
    )
    milvus_token: SecretStr | None = Field(
        None,
        description="Milvus token ('user:password' or an API key); set it with the "
        "QA_STORE__MILVUS_TOKEN environment variable rather than in a file.",
    )
    milvus_collection: str = Field(
        "qa", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Prefix of the server collections (one per index generation).",
    )
    max_deltas: int = Field(
        16, ge=0,
        description="Incremental ingests written as small delta segments before the next "
        "ingest compacts everything into a new generation (0: always rewrite).",
    )
    delta_chunks: int = Field(
        5000, ge=0,
        description="Chunks the delta segments may hold in all before compaction, or "
        "delta_fraction of the index if that is larger.",
    )
    delta_fraction: float = Field(
        0.05, ge=0.0, le=1.0,
        description="Share of the index the deltas may hold before compaction (their "
        "vectors are searched exactly, so this bounds the extra query time).",
    )


class RetrievalSettings(_Stage):
    top_k: int = Field(
        8, ge=1,
        description="Passages returned to the answer stage. On the dev split the key facts "
        "present in the evidence shown to the model rose from 0.888 with 5 passages to 0.930 "
        "with 8 (10 and 12: no change), at the same evidence budget.",
    )
    candidates: int = Field(30, ge=1, description="Candidates taken from each retriever.")
    rrf_k: int = Field(
        5, ge=1, description="Reciprocal-rank-fusion constant (small: trust the top ranks)."
    )
    min_dense_score: float = Field(
        0.30,
        description="Best cosine similarity below which nothing counts as relevant "
        "(the question is refused without calling the model).",
    )
    dense_weight: float = Field(
        1.0, ge=0.0, description="Weight of the dense (embedding) ranking in the rank fusion."
    )
    bm25_weight: float = Field(
        0.2, ge=0.0, description="Weight of the BM25 keyword ranking in the rank fusion."
    )
    keyword_slots: int = Field(
        1, ge=0,
        description="BM25's best passages always among the top_k, and relevant when "
        "another passage clears the cosine floor. A passage alone in naming a question's "
        "term ('increased blood pressure' in a list of side effects) ranks low with the "
        "embedder, and at BM25's fusion weight it fell out. Dev split: key facts in the "
        "evidence 0.921 -> 0.930, key-fact recall 0.808 -> 0.837; MedicationQA dev hit@5 "
        "and MRR@10 unchanged. 2 found no more dev facts than 1.",
    )
    stem: bool = Field(True, description="Stem words (Snowball English) for BM25.")
    spelling: bool = Field(
        True, description="Fix misspelled query words to the closest corpus word."
    )
    aliases: bool = Field(
        True, description="Add brand/generic drug names the corpus pairs, e.g. 'diazepam (Valium)'."
    )


class AnswerSettings(_Stage):
    max_passages: int = Field(8, ge=1, description="Top passages whose sentences may be shown.")
    evidence_tokens: int = Field(
        350, ge=20,
        description="Budget (approx. tokens) of evidence sentences in the prompt; prefill "
        "is compute-bound on a CPU, so this sets first-token latency. Chosen on the dev "
        "split with the 1.5B model: 450 and 600 recalled fewer key facts and were slower. "
        "250 (2026-12-04, AVX-512 EPYC) held every dev figure (key-fact recall 0.877 vs "
        "0.870) with the first token at 1.84 s against 2.39 s, but on the held-out test "
        "split recall fell 0.731 -> 0.701 and false refusals rose 0.097 -> 0.113 (issue 12 "
        "allows 0.02), so it is not the default; 200 lost 0.062 recall on dev.",
    )
    support_threshold: float = Field(
        0.45, ge=0.0, le=1.0,
        description="Minimum support score for an answer sentence to keep a citation.",
    )
    min_word_coverage: float = Field(
        0.6, ge=0.0, le=1.0,
        description="Share of a sentence's content words its excerpt must contain before "
        "semantic similarity counts at all. At 0.5 (dev split) sentences joining a fact "
        "from the excerpt to one it lacks ('X and Y both cause nausea') got through.",
    )
    quote_score: float = Field(
        0.7, ge=0.0,
        description="When the model's sentences do not hold, the best excerpt sentence is "
        "quoted as the answer if its score (cosine to the question, drug names taken out of "
        "both, + half the share of the question's topic words it uses, rarer words weighing "
        "more) reaches this; otherwise the question is refused. On the dev split the best "
        "quote of an unanswerable question scored at most 0.36, and thresholds from 0.65 "
        "to 0.8 made the same answerable questions quotable (43 of 51, 33 with a key fact; "
        "0.9: 36 and 28; the old unmasked score needed 0.9 and quoted 27 with a key fact).",
    )
    vouch_score: float = Field(
        0.5, ge=0.0,
        description="An excerpt sentence scoring this (below quote_score) is quoted in "
        "place of the model's sentences only when the model pointed at it: its sentence "
        "copied that excerpt sentence, or cited its excerpt while the sentence did not hold "
        "(often a restatement of the question). The model's choice of passage is a second "
        "sign, apart from the score, that the sentence answers.",
    )
    max_question_chars: int = Field(
        2000, ge=10,
        description="Longer questions are rejected with a one-line message (a question is a "
        "sentence or two; 2,000 characters is a long paragraph). Tokens are bounded too: "
        "the prompt never exceeds the context window (see qa.llm).",
    )
    constrained: bool = Field(
        False,
        description="Constrained decoding with prompts/cited_answer.gbnf: every sentence "
        "must end with a citation marker (compared with free decoding by `qa eval`).",
    )


class IngestSettings(_Stage):
    """Limits that keep one bad file from hanging or exhausting an ingest."""

    max_file_mb: float = Field(
        25.0, gt=0,
        description="Files larger than this (MB on disk) are skipped without being read. A "
        "leaflet is tens of KB and an article PDF with figures a few MB; 25 MB leaves room "
        "for a scanned-figure PDF while a 50 MB text dump is refused at once.",
    )
    max_text_chars: int = Field(
        2_000_000, ge=1000,
        description="Documents whose extracted text is longer than this are skipped (about "
        "1,000 pages; embedding that many characters takes about a minute on 2 cores).",
    )
    seconds_per_file: float = Field(
        60.0, gt=0,
        description="Time one file may take to convert (read, parse, clean); a file that "
        "takes longer is skipped. Leaflets take milliseconds and a 300-page PDF a few "
        "seconds.",
    )
    memory_mb: int = Field(
        1024, ge=256,
        description="Address-space limit of the process that converts files; a file that "
        "needs more (a decompression bomb) is skipped.",
    )


class UISettings(_Stage):
    password: SecretStr | None = Field(
        None,
        description="Password of the web page (user name: `username`). Required, at least "
        "12 characters, when the page is served on any address but 127.0.0.1 / ::1. Set it "
        "with QA_UI__PASSWORD, never in a committed file.",
    )
    username: str = Field("qa", min_length=1, description="User name for the web page login.")


class ServerSettings(_Stage):
    """`qa serve` and the request queue it shares with the chat UI (``qa.service``)."""

    host: str = Field(
        "127.0.0.1",
        description="Address to listen on. Any address but a loopback one requires "
        "QA_API_KEY, or the server refuses to start.",
    )
    port: int = Field(8000, ge=1, le=65535, description="Port of the HTTP API.")
    max_queue: int = Field(
        32, ge=1,
        description="Requests that may wait for the model (one runs at a time, in arrival "
        "order); a request beyond them gets 503 with Retry-After.",
    )
    time_limit_s: float = Field(
        120.0, gt=0,
        description="Longest a request may run once its turn comes; generation is then "
        "stopped and the client gets 504. Queue time is not counted.",
    )
    max_messages: int = Field(100, ge=1, description="Messages one request may carry.")
    max_message_chars: int = Field(
        8000, ge=1,
        description="Longest message accepted (characters). Only the latest question and "
        "the evidence reach the model; a pasted document is not a question.",
    )
    max_body_bytes: int = Field(
        1_000_000, ge=1024, description="Largest request body accepted (bytes); 413 above."
    )


class Settings(BaseSettings):
    """Root settings. Build once in an entry point, then hand each stage its part."""

    model_config = SettingsConfigDict(
        env_prefix="QA_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    corpus_dir: Path = Field(Path("ingest"), description="Folder of documents to index.")
    index_dir: Path = Field(Path("index"), description="Where the built index lives.")
    cache_dir: Path = Field(
        default_factory=default_cache_dir, description="Cache for provisioned model files."
    )
    prompts_dir: Path | None = Field(
        None, description="Folder of prompt files; default: the ones shipped with the package "
        "(the repository's prompts/)."
    )
    embedder: EmbedderSettings = EmbedderSettings()
    llm: LLMSettings = LLMSettings()
    chunking: ChunkSettings = ChunkSettings()
    store: StoreSettings = StoreSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    ingest: IngestSettings = IngestSettings()
    ui: UISettings = UISettings()
    server: ServerSettings = ServerSettings()
    api_key: SecretStr | None = Field(
        None,
        description="QA_API_KEY: the key clients of `qa serve` send as 'Authorization: "
        "Bearer <key>' (and the web page's password when QA_UI__PASSWORD is not set). "
        "Required off loopback; enforced whenever set.",
    )
    feedback_file: Path = Field(
        Path("feedback/answers.jsonl"),
        description="Where the chat UI appends 👍/👎 feedback, one JSON object per line "
        "(local only: nothing leaves the machine).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = os.environ.get("QA_CONFIG") or "qa.toml"
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
        )

    def fingerprint(self) -> str:
        """Short hash of everything that shapes an answer, stamped on each Answer."""
        # Where things live, how they are served and the ingest limits do not shape an answer.
        data = self.model_dump(mode="json", exclude={
            "corpus_dir", "index_dir", "cache_dir", "ingest", "ui", "server", "api_key",
            "feedback_file"})
        return hashlib.md5(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
