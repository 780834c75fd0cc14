"""PDF page numbers: from the file's pages to the chunks, the citations and the JSON ("page")."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from qa.answer import Assistant
from qa.config import ChunkSettings
from qa.ingestion import ingest
from qa.llm import ChatPrompt
from qa.loaders import load_document

from .conftest import STORE, settings_for
from .fakes import FakeGenerator
from .test_loaders import _minimal_pdf

PAGES = [
    ["Dantrolene Leaflet", "Dantrolene sodium is a muscle relaxant given by mouth or by vein."],
    ["Storage", "Keep dantrolene capsules at room temperature, away from heat and moisture."],
    ["Side Effects", "Dantrolene can cause drowsiness, dizziness and weakness in the muscles."
     " Liver problems are rare but serious, so doctors check liver tests during treatment."],
]


def _pdf(pages: list[list[str]]) -> bytes:
    """A PDF of several pages, each written by the loader tests' hand-made writer."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for lines in pages:
        writer.append(PdfReader(io.BytesIO(_minimal_pdf(lines))))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_each_page_of_a_pdf_starts_where_its_text_does(tmp_path: Path) -> None:
    path = tmp_path / "dantrolene.pdf"
    path.write_bytes(_pdf(PAGES))
    doc = load_document(path, tmp_path)
    assert len(doc.pages) == 3 and doc.pages[0] == 0
    for number, lines in enumerate(PAGES, start=1):
        at = doc.text.index(lines[1][:30])
        assert doc.page_at(at) == number
    text_only = tmp_path / "plain.txt"
    text_only.write_text("Plain Leaflet\n\nNo pages in a text file, so no page numbers here.\n")
    assert load_document(text_only, tmp_path).pages == ()


def test_citations_from_a_pdf_carry_their_page_into_the_json(tmp_path: Path, embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "dantrolene.pdf").write_bytes(_pdf(PAGES))
    index_dir = tmp_path / "index"
    ingest(corpus, index_dir, embedder, ChunkSettings(chunk_tokens=32, overlap_tokens=0),
           store_cfg=STORE)

    def reply(prompt: ChatPrompt) -> str:
        n = re.search(r"^\[(\d+)\] [^\n]*liver", prompt.user, re.MULTILINE | re.IGNORECASE)
        assert n, prompt.user
        return f"Doctors check liver tests during dantrolene treatment [{n.group(1)}]."

    settings = settings_for(index_dir, chunking=ChunkSettings(chunk_tokens=32, overlap_tokens=0))
    assistant = Assistant.load(settings=settings, embedder=embedder,
                               generator=FakeGenerator(reply))
    pages = {c.page for c in assistant.index.chunks}
    assert pages == {1, 2, 3}
    answer = assistant.ask("Do doctors check the liver during dantrolene treatment?")
    assert answer.citations, answer.raw_answer
    data = json.loads(json.dumps(answer.to_dict()))
    assert [c["page"] for c in data["citations"]] == [3]
