"""A drug's side effects are never said to be what it treats.

A ninth round of questions nobody here wrote asked "what can prednisone do to your bones
and muscles?" and got "Prednisone can treat muscle weakness, steroid myopathy, and loss of
muscle mass", supported word for word by the label's list of possible side effects (its
lines under "Musculoskeletal:"). A fake model writes the replies (so each branch is reached
on purpose); index and embedder are real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.scope import Lexicon, Relevance, focus_of
from qa.types import Chunk, Evidence
from qa.verification import use_misread

from .conftest import answer_of, indexed_pages, page_text
from .fakes import citing

PAGES = {"prednisone.txt": page_text("""PREDNISONE

What prednisone is used for

Prednisone is used to treat arthritis, lupus and severe allergic reactions.

Possible side effects of prednisone

Musculoskeletal:
Muscle weakness.
Steroid myopathy.
Loss of muscle mass.
Osteoporosis.

Dermatologic:
Impaired wound healing.
Thin fragile skin.
""")}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("uses"), PAGES, embedder)


def test_a_side_effect_list_is_not_what_the_drug_treats(pages: Path, embedder) -> None:
    answer = answer_of(pages, embedder, "what can prednisone do to your bones and muscles?",
                       citing("steroid myopathy", "Prednisone can treat muscle weakness, "
                              "steroid myopathy, and loss of muscle mass [n]."))
    assert "treat" not in answer.text
    assert any(c.verdict.value == "contradicted" for c in answer.checks)


def test_what_the_label_says_it_treats_stays(pages: Path, embedder) -> None:
    answer = answer_of(pages, embedder, "what is prednisone used for?",
                       citing("lupus", "Prednisone is used to treat arthritis and lupus [n]."))
    assert "used to treat arthritis" in answer.text
    assert not any(c.verdict.value == "contradicted" for c in answer.checks)


def _evidence(text: str, section: str) -> Evidence:
    chunk = Chunk("c", "d", "d.txt", "D", section, 0, len(text), text)
    return Evidence(n=1, chunk=chunk, start=0, end=len(text), text=text, score=1.0)


def test_a_sentence_naming_harms_itself_is_left_to_the_other_checks() -> None:
    side_effects = _evidence("Muscle weakness.\nSteroid myopathy.", "Musculoskeletal:")
    assert use_misread("Prednisone can treat muscle weakness.", [side_effects])
    assert not use_misread("Prednisone, used for arthritis, can cause muscle weakness.",
                           [side_effects])
    uses = _evidence("Prednisone is used to treat arthritis.", "Uses")
    assert not use_misread("Prednisone can treat arthritis.", [uses])
    # a use said in other words is no list of harms: left to the other checks
    other_words = _evidence("Valacyclovir shortens an attack of shingles.", "Shingles")
    assert not use_misread("Valacyclovir treats shingles.", [other_words])
    warning = _evidence("Do not stop prednisone suddenly; the risk of adrenal crisis rises.",
                        "Warnings")
    assert use_misread("Prednisone treats adrenal crisis.", [warning])


def test_saying_a_drug_has_side_effects_is_no_answer_to_which() -> None:
    """Round 10: "started rosuvastin 2 weeks ago, what side effects are kinda normal" got
    "Rosuvastatin may cause side effects [1]." and nothing else."""
    lexicon = Lexicon.build({"r": "Rosuvastatin may cause side effects such as headache "
                                  "and muscle pain."}, {}, {"r": "Rosuvastatin"})
    question = "what side effects are kinda normal with rosuvastatin"
    relevance = Relevance.of(question, focus_of(question, lexicon, question), lexicon)
    assert relevance.echo("Rosuvastatin may cause side effects [1].")
    assert not relevance.echo("Rosuvastatin may cause headache [1].")
