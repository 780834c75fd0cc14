"""What the model is shown: the sentences that answer, not the ones that only name the drug.

Real index, real embedder; the model is a fake that refuses, so the test reads the prompt
the model was given (and the quoted fallback the user gets).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.answer import Assistant
from qa.config import AnswerSettings
from qa.evidence import select_evidence
from qa.scope import Lexicon, route_crowded, scored_question, setting_of
from qa.types import Chunk, Passage

from .conftest import settings_for
from .fakes import FakeGenerator
from .leaflets import INSULIN, LEAFLETS, MEMANTINE, SHINGLES, TITLES, VALACYCLOVIR

REFUSAL = "I could not find the answer in the indexed documents."


def _asked(seed_index: Path, embedder, question: str) -> tuple[str, str]:
    """(the prompt's user turn, the answer text) for a model that refuses."""
    generator = FakeGenerator(REFUSAL)
    assistant = Assistant.load(settings=settings_for(seed_index), embedder=embedder,
                               generator=generator)
    answer = assistant.ask(question)
    return generator.prompts[0].user, answer.text


@pytest.mark.parametrize(("question", "facts"), [
    # The articles' lists ("Common adverse reactions include dizziness, nausea, and
    # disorientation") never name ketamine; a dozen sentences on "ketamine's effects" do.
    ("What side effects does ketamine have?", ("dizziness", "nausea")),
    ("List ketamine's side effects.", ("dizziness", "nausea")),
    # "It inhibits calcium release from the sarcoplasmic reticulum" names no drug either.
    ("What is the mechanism of action of dantrolene?", ("calcium",)),
    # Without the drug, "How does dantrolene work?" is "How does work?": it is scored as
    # asking for the mechanism of action.
    ("How does dantrolene work?", ("calcium",)),
    # "Ketamine is believed to work by targeting a different neurotransmitter system… It
    # acts on the N-methyl-D-aspartate (NMDA) receptor": the lead sentence brings the one
    # that continues it, where the specific fact is.
    ("How does ketamine work?", ("it acts on the n-methyl-d-aspartate (nmda) receptor",)),
    # A route question naming a condition: the condition's passages ranked the route's
    # below the top 8, and its sentences outscored "infusion or nasal spray delivery".
    ("How do patients receive ketamine for depression?", ("infusion", "nasal spray")),
    ("In what form is ketamine given for treatment-resistant depression?", ("infusion",)),
    # An aspect asked with the drug's setting ("…in people with Alzheimer's disease"): the
    # setting is in every passage, and its sentences outscored the one answering.
    ("Which side effects does memantine have in patients with Alzheimer's disease?",
     ("dizziness", "constipation")),
    ("Which side effects can ketamine cause in patients with depression?", ("nausea",)),
])
def test_the_sentence_that_answers_reaches_the_model(seed_index, embedder, question, facts):
    prompt, _ = _asked(seed_index, embedder, question)
    for fact in facts:
        assert fact in prompt.lower(), (fact, prompt)


@pytest.mark.parametrize(("question", "each_side"), [
    # One search for both ranks dantrolene's side-effect passages above all of ketamine's.
    ("Compare the side effects of dantrolene and ketamine.",
     (("weakness", "drowsiness", "liver"), ("disorientation", "dissociation"))),
    ("How do the mechanisms of memantine and dantrolene differ?",
     (("nmda", "glutamate"), ("calcium",))),
])
def test_a_comparison_shows_the_model_each_drug(seed_index, embedder, question, each_side):
    """Each drug is answered on its own (``Assistant._parts``): its facts reach its prompt."""
    generator = FakeGenerator(REFUSAL, REFUSAL)
    Assistant.load(settings=settings_for(seed_index), embedder=embedder,
                   generator=generator).ask(question)
    prompts = [p.user.lower() for p in generator.prompts]
    assert len(prompts) == 2
    showing = [{i for i, prompt in enumerate(prompts) if any(f in prompt for f in side)}
               for side in each_side]
    assert all(showing) and showing[0] != showing[1], (each_side, prompts)


def test_a_refused_answer_quotes_the_sentence_that_answers(seed_index, embedder):
    """The model refused; the best excerpt sentence is quoted instead, and it is the one
    with the answer, not one that mentions the drug's "effects"."""
    _, answer = _asked(seed_index, embedder, "What are the adverse effects of ketamine?")
    assert "dizziness" in answer.lower() and "nausea" in answer.lower(), answer


def test_a_how_does_it_work_question_is_scored_as_asking_for_the_mechanism():
    assert scored_question("How does ketamine work?", str).endswith("Mechanism of action.")
    assert scored_question("What does memantine do in the brain?", str).endswith("action.")
    assert scored_question("What are the side effects of ketamine?", str) == (
        "What are the side effects of ketamine?")


def test_a_how_is_it_given_question_is_scored_as_asking_for_the_route():
    assert "Route of administration" in scored_question("How is ketamine given?", str)
    assert "Route of administration" in scored_question("How should I take metformin?", str)
    assert "Route of administration" in scored_question("How do patients receive X?", str)
    assert "Route of administration" in scored_question("In what form is X given?", str)
    assert "Route of administration" not in scored_question("How do I get rid of it?", str)


def test_only_a_route_question_naming_more_than_the_drug_is_searched_for_the_route():
    """The extra search is for "…given for depression"; for "How is ketamine given?" it
    changed the prompt's first excerpt and the model's answer (dev c003)."""
    hide = Lexicon.build({"k": "Ketamine is given by infusion."}, {}).without_drugs
    assert route_crowded("How is ketamine given for depression?", hide)
    assert route_crowded("How do patients receive ketamine for depression?", hide)
    assert not route_crowded("How is ketamine given?", hide)
    assert not route_crowded("How should patients take ketamine?", hide)
    assert not route_crowded("What is ketamine used for in depression?", hide)
    assert scored_question("How is memantine used for dementia?", str) == (
        "How is memantine used for dementia?")


def test_a_setting_every_passage_shares_is_not_what_is_asked():
    texts = ["Ketamine helps depression quickly.", "Depression responds to ketamine.",
             "Ketamine may be abused.", "Treatment-resistant depression is common."]
    hide = Lexicon.build({"k": " ".join(texts)}, {}).without_drugs
    assert setting_of("What are the risks of using ketamine for depression?", texts,
                      hide) == "What are the risks of using ketamine?"
    assert setting_of("What side effects can ketamine cause in people with depression?",
                      texts, hide) == "What side effects can ketamine cause?"
    # not a setting the passages share, the drug itself, or no closing phrase at all
    assert setting_of("What is ketamine used for in anxiety?", texts, hide) is None
    assert setting_of("Who is unsuitable for ketamine therapy?", texts, hide) is None
    assert setting_of("What are the risks of ketamine?", texts, hide) is None


def test_the_route_is_the_first_excerpt_for_a_how_is_it_given_question(seed_index, embedder):
    """"How is it given?" shares no word with "infusion or nasal spray delivery": a
    sentence on the controlled setting came first, and the model answered with that."""
    prompt, _ = _asked(seed_index, embedder, "How is ketamine given?")
    first = prompt.split("[2]")[0].lower()
    assert "infusion" in first, prompt


def test_drug_names_are_taken_out_of_what_scoring_compares():
    lexicon = Lexicon.build({"a": "Ketamine is a drug. Ketamine is given.",
                             "b": "Memantine is a drug. Memantine works."}, {})
    assert set(lexicon.drugs) >= {"ketamine", "memantine"}
    said = lexicon.without_drugs("Ketamine's side effects, unlike memantine's, include nausea.")
    assert "etamine" not in said.lower() and "emantine" not in said.lower()
    assert "side effects" in said and "nausea" in said


@pytest.mark.parametrize("question", [
    "What is the highest dose of ketamine that is safe?",
    "What is the maximum daily dose of memantine?",
    "What is the most memantine a person can take in a day?",
])
def test_a_question_asking_for_a_limit_is_not_answered_with_a_sentence_stating_none(
        seed_index, embedder, question):
    """No article states a maximum dose; a refusing model must not be replaced by a quote
    about "optimizing dosing strategies" or a starting dose."""
    _, answer = _asked(seed_index, embedder, question)
    assert answer == REFUSAL


def test_the_most_abundant_is_not_a_limit():
    from qa.finishing import _ASKS_LIMIT

    assert not _ASKS_LIMIT.search("What is the most abundant neurotransmitter in the brain?")
    assert _ASKS_LIMIT.search("What is the most dantrolene a person can take in a day?")


def _leaflets(tmp_path: Path, embedder, documents: dict[str, str], *replies) -> Assistant:
    """An Assistant over a real index of these documents, the model a fake."""
    from qa.config import ChunkSettings
    from qa.ingestion import ingest

    folder = tmp_path / "leaflets"
    folder.mkdir()
    for name, text in documents.items():
        (folder / name).write_text(text)
    index_dir = tmp_path / "index"
    ingest(folder, index_dir, embedder, ChunkSettings(), store_cfg=settings_for(index_dir).store)
    return Assistant.load(settings=settings_for(index_dir), embedder=embedder,
                          generator=FakeGenerator(*replies))


COLDS = """# Colds

A cold is caused by a virus. Antibiotics do not treat a cold, because antibiotics attack
bacteria and a cold is caused by a virus. Rest and fluids help while the cold runs its course.
"""


def test_a_yes_the_documents_say_no_to_becomes_no_and_the_quote(tmp_path, embedder):
    """MedlinePlus pages: "Can antibiotics treat a cold?" was answered "Yes, antibiotics can
    treat a cold [1]"; the claim was dropped for the quote, which then did not say which
    way the documents answer."""
    assistant = _leaflets(tmp_path, embedder, {"colds.md": COLDS},
                          lambda prompt: "Yes, antibiotics can treat a cold [1].")
    answer = assistant.ask("Can antibiotics treat a cold?")
    assert answer.text.startswith("No. The documents say: “Antibiotics do not treat a cold"), \
        answer.text


FLUOROURACIL = ("# Fluorouracil\n\nFluorouracil 5% Topical Cream is used for actinic "
                "keratoses. When Fluorouracil 5% Topical Cream is applied to a lesion, a "
                "response occurs with the following sequence: erythema, usually followed by "
                "vesiculation, desquamation, erosion and reepithelialization.\n")


def test_a_dosage_form_is_not_what_a_question_asks_about(tmp_path, embedder):
    """MedicationQA rows: "What is the expiration time for fluorouracil topical cream?"
    quoted how the cream acts on a lesion, for its words "topical cream"; the leaflet
    says nothing about expiry."""
    assistant = _leaflets(tmp_path, embedder, {"fluorouracil.md": FLUOROURACIL,
                                               "insulin.md": INSULIN + "Do not use insulin "
                                               "after the expiration date.\n"},
                          lambda prompt: "I could not find the answer in the indexed documents.")
    assert assistant.ask("What is the expiration time for fluorouracil topical cream?").refused
    assistant.generator.replies.append("I could not find the answer in the indexed documents.")
    answer = assistant.ask("What is fluorouracil topical cream used for?")
    # "used" is what is asked (the product's reaction sequence scored as high before)
    assert "actinic keratoses" in answer.text, answer.text


def test_a_short_title_names_the_leaflets_drug_even_a_common_word():
    """Rarity alone made "hypoglycemia" the insulin leaflet's drug: "insulin" is a common
    English word."""
    docs = {"i": INSULIN, "m": MEMANTINE}
    assert Lexicon.build(docs, {}).doc_drug["i"] == "hypoglycemia"
    lexicon = Lexicon.build(docs, {}, {"i": "Insulin", "m": "Memantine"})
    assert lexicon.doc_drug == {"i": "insulin", "m": "memantine"}
    assert lexicon.drugs_in("Can insulin cause headache?") == {"insulin"}
    # A long title keeps the rarity rule (an article titled by a sentence, not a drug).
    long_title = "Understanding Insulin Storage, Injection Sites and Blood Sugar Control"
    assert Lexicon.build(docs, {}, {"i": long_title}).doc_drug["i"] == "hypoglycemia"


def test_a_title_word_qualified_by_a_letter_names_no_subject_alone():
    """"Vitamin D" is not about "vitamin": asked about vitamin B12 injections, the vitamin D
    page's daily amounts were the answer. A title word its text uses once (beside the
    title line) still names the page ("Lansoprazole", its text saying "polyps" more)."""
    vitamin_d = "Vitamin D\n\nVitamin D helps the body absorb calcium. Calcium builds bone."
    lansoprazole = ("Lansoprazole\n\nPolyps are growths. Polyps can grow. Polyps are rare "
                    "with lansoprazole taken briefly.")
    lexicon = Lexicon.build({"d": vitamin_d, "l": lansoprazole}, {},
                            {"d": "Vitamin D", "l": "Lansoprazole"})
    assert lexicon.doc_drug.get("d") != "vitamin"
    assert lexicon.doc_drug["l"] == "lansoprazole"


def test_another_leaflets_side_effects_are_not_given_to_a_drug_titled_by_a_common_word(
        tmp_path, embedder):
    """The model gives insulin memantine's side effects, citing memantine's excerpt (or,
    asked about insulin alone, insulin's): the sentence is dropped, because insulin is
    known as the insulin leaflet's drug."""
    def reply(prompt) -> str:
        n = next((line.split("]")[0].lstrip("[") for line in prompt.user.splitlines()
                  if "headache" in line), "1")
        return (f"Memantine can cause dizziness, headache and constipation [{n}]. "
                f"Insulin can cause dizziness, headache and constipation [{n}].")

    assistant = _leaflets(tmp_path, embedder, {"insulin.md": INSULIN, "memantine.md": MEMANTINE},
                          reply, reply)
    answer = assistant.ask("What side effects do memantine and insulin have?")
    assert "Memantine can cause dizziness" in answer.text, answer.text
    assert "Insulin can cause" not in answer.text, answer.text


def test_a_subject_the_documents_speak_of_as_a_condition_is_not_a_drug():
    """"People with shingles", "symptoms of shingles": a condition; "take valacyclovir
    tablets", "too much insulin": drugs."""
    lexicon = Lexicon.build(LEAFLETS, {}, TITLES)
    assert lexicon.doc_drug == {"s": "shingles", "v": "valacyclovir", "i": "insulin",
                                "m": "memantine"}
    assert lexicon.conditions == {"shingles"}


def _relevance(question: str):
    from qa.scope import Relevance, focus_of

    lexicon = Lexicon.build(LEAFLETS, {}, TITLES)
    return Relevance.of(question, focus_of(question, lexicon), lexicon)


def test_naming_the_condition_a_drug_treats_is_not_naming_another_drug():
    """Asked about valacyclovir, "It is used to treat shingles" was dropped as a sentence
    about another drug, since the shingles page's subject counted as one."""
    about_drug = _relevance("What is valacyclovir used for?")
    assert not about_drug.other_drug("It is used to treat shingles and cold sores.")
    assert about_drug.other_drug("Acyclovir is a similar medicine.")
    assert not about_drug.echo("Valacyclovir treats shingles.")
    # one drug and one condition are not a comparison of two drugs
    assert _relevance("Does valacyclovir cure shingles?").compared == ()
    assert _relevance("Do valacyclovir and memantine cause headache?").compared == (
        "memantine", "valacyclovir")


def test_a_condition_named_with_a_drug_stays_part_of_what_is_asked():
    """"Is insulin used to treat diabetes?" was scored as "Is used to treat?": the quote
    chosen was about how insulin is stored."""
    from qa.finishing import _topic

    relevance = _relevance("Does valacyclovir shorten an attack of shingles?")
    assert "shingl" in _topic("Does valacyclovir shorten an attack of shingles?", relevance)
    assert "shingles" in relevance.hide("Does valacyclovir shorten an attack of shingles?")
    assert "valacyclovir" not in relevance.hide("Valacyclovir treats shingles.")


def test_a_drug_answer_naming_the_condition_it_treats_is_kept(tmp_path, embedder):
    """Real index with a page about shingles beside the valacyclovir leaflet: the model's
    right answer must not be dropped for naming shingles."""
    def reply(prompt) -> str:
        n = next(line.split("]")[0].lstrip("[") for line in prompt.user.splitlines()
                 if "cold sores" in line)
        return f"It is used to treat cold sores and shingles [{n}]."

    assistant = _leaflets(tmp_path, embedder,
                          {"shingles.md": SHINGLES, "valacyclovir.md": VALACYCLOVIR}, reply)
    answer = assistant.ask("What is valacyclovir used for?")
    assert answer.text.startswith("It is used to treat cold sores and shingles"), answer.text


def test_a_quote_comes_from_a_document_that_names_what_was_asked(embedder):
    """MedicationQA rows side by side: asked "What color is phenytoin?", a row giving
    another capsule's colour, naming no drug, was quoted as the answer. Only phenytoin's
    line stating a colour may be (a look question is answered by a colour or shape)."""
    from qa.finishing import quotes
    from qa.scope import Relevance, focus_of
    from qa.types import Chunk, Evidence

    def excerpt(n: int, doc: str, text: str) -> Evidence:
        return Evidence(n, Chunk(f"c{n}", doc, f"{doc}.md", doc, "", 0, len(text), text),
                        0, len(text), text, 1.0)

    evidence = [excerpt(1, "phenytoin", "Phenytoin is used to control seizures. Phenytoin "
                                        "capsules are white with an orange band."),
                excerpt(2, "appearance", "Color blue Shape CAPSULE Size 17mm Score none")]
    lexicon = Lexicon.build({e.chunk.doc_id: e.text for e in evidence}, {})
    question = "What color is phenytoin?"
    relevance = Relevance.of(question, focus_of(question, lexicon), lexicon)
    assert lexicon.doc_drug.get("appearance") is None  # a row about no drug
    found = quotes(question, evidence, relevance, embedder)
    assert [q.text for q in found] == ["Phenytoin capsules are white with an orange band."]


@pytest.mark.parametrize(("question", "quoted"), [
    ("How do I use an epinephrine pen?", {3}),
    ("How does epinephrine work?", {2, 3}),  # the mechanism is said in other words
])
def test_a_quote_says_what_is_asked_about_a_thing_named_in_passing(embedder, question, quoted):
    """MedicationQA rows: asked "how to use an epinephrine pen" (epinephrine no known
    drug), a table of lidocaine injections with epinephrine was quoted: it names the
    subject, not what is asked about it ("pen")."""
    from qa.finishing import quotes
    from qa.scope import Relevance, focus_of
    from qa.types import Chunk, Evidence

    def excerpt(n: int, doc: str, text: str) -> Evidence:
        return Evidence(n, Chunk(f"c{n}", doc, f"{doc}.md", doc, "", 0, len(text), text),
                        0, len(text), text, 1.0)

    evidence = [excerpt(1, "rectal", "Gently insert the syringe tip into the rectum until "
                                     "the rim is snug."),
                excerpt(2, "lidocaine", "Lidocaine injection with epinephrine comes in "
                                        "20-ml ampoules for dental anaesthesia."),
                excerpt(3, "auto", "Press the epinephrine pen firmly against the outer thigh "
                                   "until the autoinjector clicks, and hold the autoinjector "
                                   "there for 3 seconds.")]
    lexicon = Lexicon.build({e.chunk.doc_id: e.text for e in evidence}, {})
    relevance = Relevance.of(question, focus_of(question, lexicon), lexicon)
    assert not relevance.focus.drugs
    assert {q.evidence.n for q in quotes(question, evidence, relevance, embedder)} == quoted


SERIOUS = "\n".join([
    "Amiodarone may cause side effects. Tell your doctor if any of these symptoms are severe "
    "or do not go away:", "constipation", "headache", "flushing",
    "Some side effects can be serious. If you experience any of the following symptoms, call "
    "your doctor immediately or get emergency medical treatment:",
    "rash", "weight loss or gain", "restlessness", "weakness", "nervousness", "irritability",
    "intolerance to heat or cold", "thinning hair", "excessive sweating",
    "swelling in the front of the neck (goiter)",
    "numbness or tingling in the hands, legs, and feet", "muscle weakness",
    "Amiodarone may cause other side effects. Call your doctor if you have any unusual "
    "problems while taking this medication."])


def test_a_long_list_of_one_word_lines_comes_with_its_lead_in(embedder) -> None:
    """Round 8: "which side effects mean we should call the doctor right away?" on a label
    page whose lead-in is followed by eighteen symptoms, a line each: the one-word lines
    ("rash") were no sentences, the lead-in brought at most six lines, and a list too long
    for half a budget came with none; the answer quoted another paragraph."""
    chunk = Chunk(chunk_id="a-0", doc_id="a", source="amiodarone.txt", title="Amiodarone",
                  section="side effects", start=0, end=len(SERIOUS), text=SERIOUS)
    shown = select_evidence("Which side effects mean I should call the doctor immediately?",
                            [Passage(chunk, 0.9)], embedder, AnswerSettings(evidence_tokens=100))
    lead_in = next(e.text for e in shown if "call your doctor immediately" in e.text)
    for item in ("rash", "weight loss or gain", "restlessness", "goiter", "muscle weakness"):
        assert item in lead_in, lead_in
    # a smaller budget holds the list's first items, in order, not none of them
    shown = select_evidence("Which side effects mean I should call the doctor immediately?",
                            [Passage(chunk, 0.9)], embedder, AnswerSettings(evidence_tokens=60))
    lead_in = next(e.text for e in shown if "call your doctor immediately" in e.text)
    assert "treatment:\nrash\nweight loss or gain" in lead_in, lead_in


@pytest.mark.parametrize("budget", [30, 350])
def test_a_sentence_pointing_back_to_these_agents_comes_with_what_they_are(
        embedder, budget: int) -> None:
    """Dev q298 ("I take my Synthroid … together with breakfast and my calcium chews. Is
    that a problem?") was shown "Administer SYNTHROID at least 4 hours apart from these
    agents." without the sentence saying which agents (calcium carbonate), and refused."""
    text = ("Take SYNTHROID on an empty stomach. Calcium carbonate may form an insoluble "
            "chelate with levothyroxine. Administer SYNTHROID at least 4 hours apart from "
            "these agents. Store at room temperature.")
    chunk = Chunk(chunk_id="s-0", doc_id="s", source="synthroid.md", title="Synthroid",
                  section="interactions", start=0, end=len(text), text=text)
    for question in ("Can I take Synthroid with calcium?",
                     "How far apart from other agents do I take Synthroid?"):
        shown = select_evidence(question, [Passage(chunk, 0.9)], embedder,
                                AnswerSettings(evidence_tokens=budget))
        excerpt = next(e.text for e in shown if "chelate" in e.text or "4 hours" in e.text)
        assert "chelate" in excerpt and "4 hours apart" in excerpt, shown
