"""Evidence from precomputed KV blocks: computed once at ingestion, spliced into the prompt
so only the question is computed when it arrives (real 0.5B GGUF, real embedder)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.kv_blocks import Block, BlockStore, ChunkBlocks, chunk_key

from .conftest import TEST_LLM, qa_env, settings_for

DOCS = {
    "memantine.md": "# Memantine\n\nMemantine blocks NMDA receptors in the brain. It reduces "
    "the effects of glutamate. Common side effects include dizziness, headache and "
    "constipation.\n",
    "dantrolene.md": "# Dantrolene\n\nDantrolene is a muscle relaxant. It can damage the "
    "liver, so liver function is checked during treatment.\n",
}


def test_a_chunk_s_blocks_come_back_from_disk_and_a_damaged_file_is_ignored(tmp_path) -> None:
    store = BlockStore(tmp_path)
    blocks = ChunkBlocks((Block(0, 10, (1, 2, 3), 40, b"state-one"),
                          Block(11, 25, (4, 5), 43, b"state-two")))
    key = chunk_key("Title", "x" * 25)
    assert store.get(key) is None and not store.has(key)
    store.put(key, blocks)
    assert BlockStore(tmp_path).get(key) == blocks  # a new store reads the file
    assert blocks.covering(0, 25) == list(blocks.blocks)
    assert blocks.covering(11, 25) == [blocks.blocks[1]]
    assert blocks.covering(3, 25) is None  # not on sentence boundaries: compute instead
    assert BlockStore(tmp_path).has(key)
    path = next(tmp_path.rglob("*.kvb"))
    path.write_bytes(path.read_bytes()[:-3])  # truncated: never trusted
    assert BlockStore(tmp_path).get(key) is None and not BlockStore(tmp_path).has(key)


@pytest.fixture(scope="module")
def small(tmp_path_factory, embedder):
    """An Assistant over two short documents, with its own block store."""
    from qa.answer import Assistant
    from qa.config import ChunkSettings, LLMSettings
    from qa.ingestion import ingest

    root = tmp_path_factory.mktemp("blocks")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text)
    ingest(corpus, root / "index", embedder, ChunkSettings())
    settings = settings_for(root / "index").model_copy(
        update={"llm": LLMSettings(model=TEST_LLM, max_tokens=60, parallel=2, splice=True,
                                   splice_refresh=0)})
    assistant = Assistant.load(settings=settings, embedder=embedder)
    generator = assistant.generator
    generator.state_dir = root / "kv"  # type: ignore[attr-defined]
    assistant.warm_up()
    return assistant


def _prompt(assistant, question: str):
    from qa.scope import Relevance, focus_of

    found = assistant.retriever.search(question)
    relevance = Relevance.of(question, focus_of(question, assistant.lexicon), assistant.lexicon)
    from qa.evidence import select_evidence

    shown = select_evidence(question, list(found.relevant), assistant.embedder,
                            assistant.settings.answer, about=relevance.about, hide=relevance.hide)
    return assistant.build_prompt(question, shown)


def test_prepared_evidence_is_spliced_and_only_the_question_is_computed(small) -> None:
    generator = small.generator
    question = "What are the side effects of memantine?"
    prompt = _prompt(small, question)
    before = generator.computed_tokens(prompt)
    assert small.prepare() == len(small.index.chunks)
    assert small.prepare() == 0  # content-addressed: nothing is computed twice
    after = generator.computed_tokens(prompt)
    question_tokens = generator.count_tokens(question)
    assert after < question_tokens + 15 < before  # the question and the turn's end only
    answer = small.ask(question)
    assert not answer.refused
    assert {c.source for c in answer.citations} == {"memantine.md"}
    assert "dizz" in answer.text.lower() or "headache" in answer.text.lower()


def test_a_damaged_block_file_means_computing_the_evidence(small) -> None:
    generator = small.generator
    small.prepare()
    prompt = _prompt(small, "Which organ can dantrolene damage?")
    assert generator.computed_tokens(prompt) < 40
    for path in generator.blocks.folder.rglob("*.kvb"):
        path.write_bytes(b"damaged")
    generator.blocks._recent.clear()
    assert generator.computed_tokens(prompt) > 40  # falls back to the whole prompt
    answer = small.ask("Which organ can dantrolene damage?")
    assert not answer.refused and "liver" in answer.text.lower()
    assert small.prepare() == len(small.index.chunks)  # the next ingest repairs them
    assert generator.computed_tokens(prompt) < 40


def write_corpus(folder: Path) -> Path:
    """The two short documents above, as files in ``folder``."""
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text)
    return folder


def private_cache(root: Path) -> Path:
    """An XDG cache home with a block store of its own; models and ONNX shared."""
    from qa.config import default_cache_dir

    cache = root / "cache" / "qa"
    cache.mkdir(parents=True)
    for shared in ("models", "onnx"):
        (cache / shared).symlink_to(default_cache_dir() / shared)
    return root / "cache"


def test_qa_ingest_computes_the_blocks_of_new_chunks_only(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    env = qa_env(QA_LLM__SPLICE="true", QA_LLM__MODEL=TEST_LLM,
                 XDG_CACHE_HOME=str(private_cache(tmp_path)))

    def qa(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True,
                              text=True, env=env, timeout=600)

    first = qa("ingest", str(corpus), "--index", str(tmp_path / "index"))
    assert first.returncode == 0, first.stderr
    assert "Evidence blocks (qwen2.5-coder-0.5b): 2 chunks computed, 0 already there" \
        in first.stderr
    (corpus / "more.md").write_text("# Ketamine\n\nKetamine acts on NMDA receptors.\n")
    second = qa("ingest", str(corpus), "--index", str(tmp_path / "index"))
    assert "1 chunk computed, 2 already there" in second.stderr, second.stderr
    answer = qa("ask", "--json", "What can dantrolene damage?", "--index",
                str(tmp_path / "index"))
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["status"] == "answered"
    shutil.rmtree(tmp_path / "cache")


def test_recomputed_excerpt_openings_are_counted_and_the_answer_holds(small, embedder) -> None:
    """llm.splice_refresh recomputes each excerpt's first tokens in context: they are part
    of what a question computes, and the answer still comes from the right document."""
    from qa.answer import Assistant
    from qa.config import LLMSettings

    small.prepare()
    prompt = _prompt(small, "What are the side effects of memantine?")
    settings = small.settings.model_copy(update={"llm": LLMSettings(
        model=TEST_LLM, max_tokens=60, parallel=2, splice=True, splice_refresh=6)})
    refreshing = Assistant.load(settings=settings, embedder=embedder)
    refreshing.generator.state_dir = small.generator.state_dir  # type: ignore[attr-defined]
    refreshing.warm_up()
    assert refreshing.prepare() == 0  # the same blocks serve both
    extra = refreshing.generator.computed_tokens(prompt) - small.generator.computed_tokens(prompt)
    assert extra == 6 * len(prompt.excerpts)
    answer = refreshing.ask("What are the side effects of memantine?")
    assert not answer.refused and {c.source for c in answer.citations} == {"memantine.md"}
