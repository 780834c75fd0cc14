"""Document -> list[Chunk], section by section, sized in embedder tokens."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from langchain_text_splitters import RecursiveCharacterTextSplitter

from qa.config import ChunkSettings
from qa.types import Chunk, Document, Section

# A chunk with fewer words than this is a stray heading or caption: nothing to cite.
MIN_CHUNK_WORDS = 6


def chunk_id_for(doc_id: str, start: int, text: str) -> str:
    """Stable id: the same text at the same place of the same document keeps its id."""
    return hashlib.sha1(f"{doc_id}\x00{start}\x00{text}".encode()).hexdigest()[:16]


def make_splitter(
    count_tokens: Callable[[str], int], cfg: ChunkSettings
) -> RecursiveCharacterTextSplitter:
    """A recursive splitter (paragraph, line, sentence, word) measured in embedder tokens."""
    return RecursiveCharacterTextSplitter(
        chunk_size=cfg.chunk_tokens,
        chunk_overlap=min(cfg.overlap_tokens, cfg.chunk_tokens // 2),
        length_function=count_tokens,
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
        keep_separator="end",
        add_start_index=True,
    )


def _sections(doc: Document) -> tuple[Section, ...]:
    return doc.sections or (Section(heading="", start=0, end=len(doc.text)),)


def chunk_document(doc: Document, splitter: RecursiveCharacterTextSplitter) -> list[Chunk]:
    """Split each section separately, so a chunk never straddles two headings.

    Offsets are into ``doc.text``: ``doc.text[c.start:c.end] == c.text`` always holds.
    """
    chunks: list[Chunk] = []
    for section in _sections(doc):
        body = doc.text[section.start : section.end]
        for piece in splitter.create_documents([body]):
            text = piece.page_content
            if len(text.split()) < MIN_CHUNK_WORDS:
                continue
            local = body.find(text, max(0, piece.metadata.get("start_index", 0)))
            if local < 0:  # splitter trimmed differently than expected; locate from the start
                local = body.find(text)
            start = section.start + local
            chunks.append(
                Chunk(
                    chunk_id=chunk_id_for(doc.doc_id, start, text),
                    doc_id=doc.doc_id,
                    source=doc.source,
                    title=doc.title,
                    section=section.heading,
                    start=start,
                    end=start + len(text),
                    text=text,
                    page=doc.page_at(start),
                )
            )
    return chunks


def embedding_text(chunk: Chunk) -> str:
    """What the embedder sees: title and heading give a short chunk its topic."""
    context = " — ".join(p for p in (chunk.title, chunk.section) if p and p not in chunk.text)
    return f"{context}\n{chunk.text}" if context else chunk.text
