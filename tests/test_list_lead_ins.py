"""A list item names the asked drug; the line leading into the list says what the list is.

Round 11 of questions nobody here wrote asked "can levodopa bring on gout?" of a gout page
whose "A number of medications may put people at risk for developing hyperuricemia and
gout. They include" leads into "- diuretics … - levodopa, a medicine used in the treatment
of Parkinson's disease.". The lead-in names no drug, so it was taken as about the page's
drug (allopurinol) and kept out; the item alone came to the model, which refused. A fake
model writes the reply; the index and the embedder are real.
"""

from __future__ import annotations

from pathlib import Path

from qa.config import AnswerSettings
from qa.evidence import select_evidence
from qa.types import Chunk, Passage

from .conftest import answer_of, indexed_pages, page_text
from .fakes import citing

GOUT = """# Gout and allopurinol

Allopurinol lowers the level of uric acid in the blood. Take allopurinol after a meal.

## Medicines that raise uric acid

A number of medications may put people at risk for developing hyperuricemia and gout. They include

- diuretics, which are taken to eliminate excess fluid from the body
- salicylate-containing drugs, such as aspirin
- cyclosporine, a medication that suppresses the body's immune system
- levodopa, a medicine used in the treatment of Parkinson's disease.

## Diet

Foods rich in purines, such as liver and anchovies, can aggravate gout."""
PARKINSONS = """# Parkinson's medicines

The main therapy for Parkinson's disease is the drug levodopa. Levodopa helps to reduce
tremors. Alcohol can make the side effects of levodopa worse."""


def test_a_list_item_comes_with_the_line_leading_into_its_list(tmp_path: Path,
                                                                embedder) -> None:
    index = indexed_pages(tmp_path, {"gout.md": page_text(GOUT),
                                     "pd.md": page_text(PARKINSONS)}, embedder)
    answer = answer_of(index, embedder, "can levodopa bring on gout? my dad takes it",
                       citing("levodopa, a medicine used",
                              "Yes, levodopa may put people at risk for developing gout [n]."))
    assert not answer.refused
    shown = [e.text for e in answer.excerpts if "levodopa, a medicine" in e.text]
    assert shown and "risk for developing hyperuricemia and gout" in shown[0]
    assert answer.text.startswith("Yes.")  # the lead-in and the item say so together



STONES = ("Kidney stones form when urine holds too much calcium. Drinking water helps "
          "prevent them. Shock wave lithotripsy breaks up larger stones.\n"
          "Others at increased risk of kidney stones are people taking certain medications "
          "including\n"
          "- diuretics, medications that help the kidneys remove fluid from the body\n"
          "- calcium-based antacids\n"
          "- the protease inhibitor indinavir (Crixivan), a medication used to treat HIV\n"
          "- the anti-seizure medication topiramate (Topamax)\n"
          "Most small stones pass without treatment.")


def _stones() -> Chunk:
    return Chunk(chunk_id="k-0", doc_id="k", source="kidney_stones.md", title="Kidney Stones",
                 section="risk", start=0, end=len(STONES), text=STONES)


def test_a_lead_in_without_a_colon_brings_its_marked_items(embedder) -> None:
    """"…people taking certain medications including" says nothing alone: chosen, it brings
    the items after it, even when the budget holds little else."""
    shown = select_evidence("Which medications raise the risk of kidney stones?",
                            [Passage(_stones(), 0.9)], embedder,
                            AnswerSettings(evidence_tokens=40))
    excerpt = next(e.text for e in shown if "certain medications including" in e.text)
    assert "- calcium-based antacids" in excerpt, shown


def test_an_item_naming_the_asked_drug_is_one_excerpt_with_its_lead_in(embedder) -> None:
    """Only the topiramate line is about the asked drug (``about``); it comes with the line
    leading into its list and the items between, as one excerpt, within a small budget."""
    def about(chunk: Chunk, sentence: str) -> bool:
        return "topiramate" in sentence.lower()

    shown = select_evidence("Can topiramate cause kidney stones?", [Passage(_stones(), 0.9)],
                            embedder, AnswerSettings(evidence_tokens=20), about=about)
    excerpt = next(e.text for e in shown if "topiramate (Topamax)" in e.text)
    assert excerpt.startswith("Others at increased risk of kidney stones"), shown
    assert "- calcium-based antacids" in excerpt and "Drinking water" not in excerpt
