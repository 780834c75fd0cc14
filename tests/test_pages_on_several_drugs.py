"""A page on several drugs: each section is about the drug its heading names.

A tenth round of questions nobody here wrote asked "ive been on sertraline for a year and
feel fine, can i just stop taking it" of a page on four antidepressants, most often naming
citalopram: under "Stopping sertraline", "A gradual reduction in the dose rather than
abrupt cessation is recommended" names no drug, so it was taken for citalopram's and never
shown. A fake model writes the replies (so each branch is reached on purpose); index and
embedder are real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.scope import Lexicon
from qa.types import Chunk

from .conftest import answer_of, indexed_pages, page_text
from .fakes import citing

PAGES = {"ssri.md": page_text("""# SSRI antidepressants

## About citalopram

Citalopram is an SSRI. Citalopram is taken once a day. Citalopram can raise the Q-T
interval, so people with an irregular heartbeat should not start citalopram.

## Stopping sertraline

Symptoms have been reported when sertraline is discontinued. A gradual reduction in the
dose rather than abrupt cessation is recommended whenever possible.

## Stopping citalopram

If you suddenly stop taking citalopram, you may have withdrawal symptoms. Your doctor
will probably decrease your citalopram dose gradually.""")}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("several"), PAGES, embedder)


def test_a_line_under_a_heading_naming_the_drug_is_about_that_drug(pages: Path,
                                                                   embedder) -> None:
    answer = answer_of(pages, embedder, "can i just stop taking sertraline abruptly?",
                       citing("gradual reduction", "No, a gradual reduction in the dose rather "
                              "than abrupt cessation is recommended [n]."))
    assert not answer.refused
    assert "gradual reduction" in answer.text


def _chunk(section: str) -> Chunk:
    return Chunk("c", "d", "d.md", "SSRIs", section, 0, 1, "x")


def test_a_heading_naming_one_drug_adds_it_to_the_chunks() -> None:
    lexicon = Lexicon.build(
        {"d": "Citalopram is an SSRI. Citalopram and sertraline treat depression. "
              "Citalopram is taken once a day.",
         "h": "Shingles is a rash. People with shingles feel pain. Shingles symptoms."},
        {}, {"d": "SSRIs", "h": "Shingles"})
    assert lexicon.chunk_drugs(_chunk("Stopping sertraline")) == {"citalopram", "sertraline"}
    assert lexicon.chunk_drugs(_chunk("Sertraline or citalopram?")) == {"citalopram"}
    assert lexicon.chunk_drugs(_chunk("Side effects")) == {"citalopram"}
    # a condition in the heading says what the section is about, not which drug
    assert lexicon.chunk_drugs(_chunk("Sertraline for shingles pain")) == \
        {"citalopram", "sertraline"}
