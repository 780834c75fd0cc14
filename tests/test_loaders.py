"""Loaders: what a user would notice in the indexed text, titles, sections and error messages."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from qa.errors import DocumentError
from qa.loaders import SUPPORTED_SUFFIXES, doc_id_for, find_documents, load_document
from qa.types import Document

REPO = Path(__file__).resolve().parents[1]
INGEST = REPO / "ingest"  # the five seed articles, same files as /work/shared/corpus/seed
DATA = Path(__file__).parent / "data"
SEED = sorted(INGEST.glob("*.txt"))


def _load(name: str) -> Document:
    return load_document(INGEST / name, INGEST)


def _minimal_pdf(lines: list[str], title: str | None = None) -> bytes:
    """A valid one-page PDF written by hand (Helvetica text, correct xref), so pypdf can read it."""
    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({s}) Tj T*" for s in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ] + ([f"<< /Title ({title}) >>"] if title else [])
    pdf = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(pdf)
    pdf += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    pdf += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    info = f" /Info {len(objects)} 0 R" if title else ""
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\n"
    return pdf + f"{trailer}startxref\n{xref}\n%%EOF\n".encode()


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def _assert_sections_cover(doc: Document) -> None:
    """Sections are in order, touch each other, cover the text and start with their heading."""
    assert doc.sections, doc.source
    assert doc.sections[0].start == 0
    assert doc.sections[-1].end == len(doc.text)
    for before, after in zip(doc.sections, doc.sections[1:], strict=False):
        assert before.end == after.start
    for section in doc.sections:
        assert section.start < section.end
        assert doc.text[section.start : section.end].startswith(section.heading)


# ---------------------------------------------------------------- the seed corpus


def test_seed_corpus_is_present() -> None:
    assert [p.name[:3] for p in SEED] == ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize("path", SEED, ids=lambda p: p.name[:3])
def test_seed_documents_are_clean_and_well_formed(path: Path) -> None:
    doc = load_document(path, INGEST)
    boilerplate = [
        "Continue Reading",
        "#depression",
        "#ketamine",
        "Jonny Richards",
        "Starting my journey",
        "Health,  Lifestyle",
        "Saturday Saviors",
        "Promising Breakthrough: Type 2 Diabetes",
        "Esketamine Nasal Spray",
        "The way we...",
        "Disclaimer",
        "[5]",
    ]
    for junk in boilerplate:
        assert junk not in doc.text, f"{junk!r} left in {doc.source}"
    assert "\n+\n" not in doc.text
    assert "\n\n\n" not in doc.text and "\u00a0" not in doc.text and "\u200b" not in doc.text
    assert all(line == line.rstrip() for line in doc.text.splitlines())
    assert doc.source == path.name
    assert doc.doc_id == path.stem
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    _assert_sections_cover(doc)


@pytest.mark.parametrize(
    ("name", "sentences"),
    [
        (
            "000_caeb206a0aa03600.txt",
            [
                "Memantine is classified as an N-methyl-D-aspartate (NMDA) receptor antagonist.",
                "Memantine is primarily used in the treatment of Alzheimer's disease. It helps "
                "manage symptoms and may slow the progression of the disease.",
                "Common side effects of memantine include dizziness, headache, and constipation.",
                "1. **Diagnosis:** Accurate diagnosis of the condition being treated is crucial.",
            ],
        ),
        (
            "001_b02498c2b6e64695.txt",
            [
                "Ketamine therapy for mood disorders is a novel approach using an anesthetic",
                "Common adverse reactions include dizziness, nausea, and disorientation during "
                "and immediately after the treatment.",
            ],
        ),
        (
            "002_9f9ee1f17dced111.txt",
            [
                "Ketamine, originally developed as an anesthetic, has shown remarkable potential "
                "in treating depression.",
                "With further refinement and understanding, ketamine therapy may become a "
                "valuable tool in the battle against depression.",
            ],
        ),
        (
            "003_ff34f6fd0d9cc91e.txt",
            [
                "Originally developed for the treatment of malignant hyperthermia, a severe "
                "reaction to certain anesthetics,",
                "One of the most significant concerns associated with dantrolene is its "
                "potential to cause liver damage.",
            ],
        ),
        (
            "004_77885f535dae8384.txt",
            [
                "Ketamine, a well-known anaesthetic often used in surgeries, has gained attention",
                "Some common side effects include dissociation, dizziness, nausea, and "
                "increased blood pressure.",
                "At Neuroplasticity MD Clinic, Ketamine therapy is leveraged",
            ],
        ),
    ],
)
def test_seed_body_text_survives_verbatim(name: str, sentences: list[str]) -> None:
    doc = _load(name)
    for sentence in sentences:
        assert sentence in doc.text


@pytest.mark.parametrize(
    ("name", "headings"),
    [
        (
            "000_caeb206a0aa03600.txt",
            ["Benefits for Alzheimer's Disease", "What is memantine primarily used for?"],
        ),
        ("001_b02498c2b6e64695.txt", ["Potential Side Effects and Considerations for Safe Use"]),
        ("002_9f9ee1f17dced111.txt", ["The Evolution of Depression Treatment", "Summary"]),
        ("003_ff34f6fd0d9cc91e.txt", ["Determining the Right Dose for Individual Patients"]),
        ("004_77885f535dae8384.txt", ["Rapid Relief from Symptoms:", "Common Side Effects:"]),
    ],
)
def test_seed_real_headings_become_sections(name: str, headings: list[str]) -> None:
    section_headings = [s.heading for s in _load(name).sections]
    for heading in headings:
        assert heading in section_headings


def test_seed_titles() -> None:
    titles = {p.name[:3]: load_document(p, INGEST).title for p in SEED}
    assert titles["000"] == "5 Ways Memantine 5mg Works"
    assert titles["002"] == (
        "Ketamine: A Promising Solution for Patients with Treatment-Resistant Depression"
    )
    assert titles["003"] == (
        "Understanding the Appropriate Dose of Dantrolene for Effective Treatment"
    )
    # 001 opens with a paragraph and 004 with a teaser link: the file name is the fallback.
    assert titles["001"] == "001 b02498c2b6e64695"


def test_seed_repeated_title_and_caption_headings_are_collapsed() -> None:
    doc = _load("002_9f9ee1f17dced111.txt")
    assert doc.text.count("A Promising Solution for Patients") == 1
    assert doc.text.startswith(doc.title + "\n\nThe Evolution of Depression Treatment\n\n")
    memantine = [s.heading for s in _load("000_caeb206a0aa03600.txt").sections]
    assert memantine.count("Applications Beyond Alzheimer's Disease") == 1
    assert "Mechanism of Action of Memantine" in memantine
    assert "Mechanism of Action" not in memantine


def test_seed_faq_questions_keep_their_answers() -> None:
    doc = _load("000_caeb206a0aa03600.txt")
    faq = next(s for s in doc.sections if s.heading == "How does memantine work?")
    answer = doc.text[faq.start : faq.end]
    assert "Memantine works by blocking N-methyl-D-aspartate (NMDA) receptors" in answer


def test_seed_teaser_glued_to_first_paragraph_is_split_off() -> None:
    doc = _load("004_77885f535dae8384.txt")
    assert doc.text.startswith("Ketamine, a well-known anaesthetic")
    assert "A New Method of Treatment" not in doc.text


# ---------------------------------------------------------------- other formats


def test_markdown_syntax_is_stripped_and_headings_become_sections() -> None:
    doc = load_document(DATA / "loaders_leaflet.md", DATA)
    assert doc.title == "Ibuprofen Leaflet"
    assert "Ibuprofen is a non-steroidal anti-inflammatory drug (NSAID)." in doc.text
    assert "- Do not take more than 1200 mg in 24 hours without medical advice." in doc.text
    assert "Common side effects include nausea and heartburn." in doc.text
    assert "max_daily_mg = 1200" in doc.text  # code is kept as text
    for gone in ("**", "__", "https://", "[]", ".png", ".svg", "#health", "front matter", "```"):
        assert gone not in doc.text
    assert not any(line.startswith("#") for line in doc.text.splitlines())
    assert [s.heading for s in doc.sections] == ["Ibuprofen Leaflet", "Dosage", "Side Effects"]
    _assert_sections_cover(doc)


def test_markdown_keeps_a_heading_that_recurs_under_each_drug(tmp_path: Path) -> None:
    text = "# Painkillers\n\n## Ibuprofen\n\n### Dosage\n\nTake 200 mg.\n\n"
    text += "## Paracetamol\n\n### Dosage\n\nTake 500 mg.\n"
    doc = load_document(_write(tmp_path, "pain.md", text), tmp_path)
    headings = [s.heading for s in doc.sections]
    assert headings == ["Painkillers", "Ibuprofen", "Dosage", "Paracetamol", "Dosage"]


def test_html_boilerplate_is_dropped_and_blocks_become_lines() -> None:
    doc = load_document(DATA / "loaders_page.html", DATA)
    assert doc.title == "Paracetamol | Example Pharmacy"
    assert "Paracetamol relieves mild to moderate pain and reduces fever." in doc.text
    assert "every 4 to 6 hours.\nDo not exceed 4 g in 24 hours." in doc.text
    assert "- Take the tablets with water.\n- Do not combine" in doc.text
    assert "Adults | 500 mg" in doc.text
    for gone in ("SCRIPT-MARKER", "color", "Menu item", "Home", "Sponsored", "Search"):
        assert gone not in doc.text
    assert "All rights reserved" not in doc.text and "JavaScript" not in doc.text
    assert [s.heading for s in doc.sections] == ["Paracetamol", "How to take it", "Overdose"]
    _assert_sections_cover(doc)


def test_pdf_text_comes_back(tmp_path: Path) -> None:
    pdf = _minimal_pdf(["Dantrolene Dosing", "Dantrolene relaxes muscles."])
    doc = load_document(_write(tmp_path, "leaflets/dantrolene.pdf", pdf), tmp_path)
    assert "Dantrolene relaxes muscles." in doc.text
    assert doc.title == "Dantrolene Dosing"
    assert (doc.source, doc.doc_id) == ("leaflets/dantrolene.pdf", "leaflets/dantrolene")
    _assert_sections_cover(doc)


def test_pdf_metadata_title_wins(tmp_path: Path) -> None:
    pdf = _minimal_pdf(["Dantrolene relaxes muscles."], title="Dantrolene leaflet")
    doc = load_document(_write(tmp_path, "d.pdf", pdf), tmp_path)
    assert doc.title == "Dantrolene leaflet"


def test_text_in_windows_1252_is_decoded(tmp_path: Path) -> None:
    doc = load_document(_write(tmp_path, "cafe.txt", b"Caf\xe9 au lait is not a drug."), tmp_path)
    assert doc.text == "Caf\u00e9 au lait is not a drug."


# ---------------------------------------------------------------- generic cleaning rules


def test_hard_wrapped_paragraphs_are_not_mistaken_for_headings(tmp_path: Path) -> None:
    wrapped = (
        "Dosing Guide\n\n"
        "Dantrolene is a muscle relaxant that plays a crucial role in\n"
        "managing conditions associated with muscle spasticity and the\n"
        "NMDA Receptor Story Nobody Tells\n"
        "ends here. Doctors adjust the dose slowly.\n"
    )
    doc = load_document(_write(tmp_path, "wrapped.txt", wrapped), tmp_path)
    assert doc.text == wrapped.strip()
    assert [s.heading for s in doc.sections] == ["Dosing Guide"]


def test_short_unbulleted_list_lines_survive(tmp_path: Path) -> None:
    text = (
        "Side effects\n\nStomach pain\nStomach bleeding\nKidney problems\n\n"
        "See a doctor if any of these last more than a few days.\n"
    )
    doc = load_document(_write(tmp_path, "nsaid.txt", text), tmp_path)
    assert doc.text == text.strip()


def test_author_box_and_byline_go_but_a_closing_section_stays(tmp_path: Path) -> None:
    body = "Aspirin thins the blood and lowers the risk of clots. " * 8
    text = (
        "Aspirin Basics\n\nBy Jane Doe | 3 March 2024\n\n"
        f"{body}\n\nFinal Thoughts\n\nAsk a pharmacist before combining painkillers.\n\n"
        "Jane Doe\n\nJane writes about medicines and loves hiking.\n"
    )
    doc = load_document(_write(tmp_path, "aspirin.txt", text), tmp_path)
    assert "Jane" not in doc.text
    assert doc.text.endswith("Final Thoughts\n\nAsk a pharmacist before combining painkillers.")


def test_disclaimers_go_whole_even_when_wrapped_or_under_a_label(tmp_path: Path) -> None:
    text = (
        "Warfarin Guide\n\nWarfarin thins the blood.\n\n**Disclaimer: not medical advice.**\n\n"
        "Medical Disclaimer\n\nThis page is not advice and you\nshould see a doctor.\n\n"
        "Warfarin interacts with many foods.\n"
    )
    doc = load_document(_write(tmp_path, "warfarin.txt", text), tmp_path)
    assert doc.text == (
        "Warfarin Guide\n\nWarfarin thins the blood.\n\nWarfarin interacts with many foods."
    )


def test_read_more_links_and_trailing_related_posts_go(tmp_path: Path) -> None:
    text = (
        "Another Post About Sleep...\nRead MoreMelatonin is a hormone that regulates sleep.\n\n"
        "It is sold over the counter in many countries.\n\n"
        "Related Posts\n\nTen Tips for Better Sleep During a Busy Working Week\n"
    )
    doc = load_document(_write(tmp_path, "sleep.txt", text), tmp_path)
    assert doc.text == (
        "Melatonin is a hormone that regulates sleep.\n\n"
        "It is sold over the counter in many countries."
    )



def test_a_labels_last_row_stating_a_measurement_is_no_trailing_orphan(tmp_path: Path) -> None:
    """"Product Characteristics Color WHITE … Size 11mm" at a page's end reads like a
    title-case link line, but it states a measurement: it is data and stays."""
    row = ("Product Characteristics Color WHITE Score 2 pieces Shape OVAL (Capsule-Shaped) "
           "Size 11mm Flavor Imprint Code M")
    text = ("# Metoprolol\n\nMetoprolol starts to work after about 2 hours.\n\n"
            f"## Appearance\n\n{row}\n")
    doc = load_document(_write(tmp_path, "metoprolol.md", text), tmp_path)
    assert doc.text.endswith(row)


def test_a_run_on_list_becomes_one_item_a_line_led_in_by_its_lead_in(tmp_path: Path) -> None:
    """MedQuAD's pages join a list's items with " - " on one line, parted by a blank line
    from the line leading into it ("…are those with"): the items become lines of their own
    right under their lead-in. A label row's "Color - WHITE; Shape - ROUND", a dash inside
    one item, and a blank line after a finished sentence are left alone."""
    text = ("# Kidney Stones\n\n"
            "People who are at increased risk of kidney stones are those with\n\n"
            "- hypercalciuria, a condition that runs in families - a family history of "
            "kidney stones - cystic kidney diseases - gout\n\n"
            "Color - WHITE (White to off white); Shape - ROUND; Score - 2 pieces\n\n"
            "Stones are common.\n\n"
            "- a single item - with a dash\n")
    doc = load_document(_write(tmp_path, "stones.md", text), tmp_path)
    assert ("are those with\n- hypercalciuria, a condition that runs in families\n"
            "- a family history of kidney stones\n- cystic kidney diseases\n- gout\n\n"
            "Color - WHITE (White to off white); Shape - ROUND; Score - 2 pieces\n\n"
            "Stones are common.\n\n- a single item - with a dash") in doc.text, doc.text


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("corrupt.pdf", bytes(range(256)) * 8, "not a valid PDF"),
        ("truncated.pdf", _minimal_pdf(["Dantrolene relaxes muscles."])[:300], "not a valid PDF"),
        ("binary.txt", b"\x00\x01\x02\x03binary\xff\xfe\x00", "binary"),
        ("garbled.txt", bytes(range(0x80, 0x100)) * 4, "not text in any encoding"),
        ("empty.txt", b"", "contains no text"),
        ("only-tags.md", b"#tag #other\n\n+\n\n[5]\n", "contains no text"),
        ("only-script.html", b"<html><script>run()</script><nav>Menu</nav></html>", "no text"),
        ("notes.odt", b"PK\x03\x04", "unsupported file type '.odt'"),
    ],
)
def test_bad_files_raise_document_error_naming_the_file(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    path = _write(tmp_path, name, data)
    with pytest.raises(DocumentError) as excinfo:
        load_document(path, tmp_path)
    message = str(excinfo.value)
    assert name in message and reason in message
    assert "\n" not in message
    assert excinfo.value.one_line().endswith("the other documents were indexed.")


def test_encrypted_pdf_raises_document_error(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(_minimal_pdf(["Secret dose."]))))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    path = _write(tmp_path, "locked.pdf", buffer.getvalue())
    with pytest.raises(DocumentError, match=r"locked\.pdf: PDF is encrypted"):
        load_document(path, tmp_path)


# ---------------------------------------------------------------- finding files and ids


def test_find_documents_skips_hidden_and_unsupported_files(tmp_path: Path) -> None:
    for name in [
        "b.txt",
        "a.md",
        "leaflets/c.HTML",
        "leaflets/d.pdf",
        "leaflets/e.htm",
        "notes.docx",
        "image.png",
        ".hidden.txt",
        ".git/config.txt",
        "leaflets/.cache/f.md",
    ]:
        _write(tmp_path, name, "x")
    found = [p.relative_to(tmp_path).as_posix() for p in find_documents(tmp_path)]
    assert found == ["a.md", "b.txt", "leaflets/c.HTML", "leaflets/d.pdf", "leaflets/e.htm",
                     "notes.docx"]
    assert find_documents(tmp_path / "missing") == []


def test_doc_id_is_the_relative_path_without_suffix() -> None:
    assert doc_id_for("leaflets/ibuprofen.txt") == "leaflets/ibuprofen"
    assert doc_id_for("000_caeb206a0aa03600.txt") == "000_caeb206a0aa03600"
    assert doc_id_for("README") == "README"
    assert set(SUPPORTED_SUFFIXES) == {".txt", ".md", ".markdown", ".html", ".htm", ".pdf",
                                       ".docx"}
