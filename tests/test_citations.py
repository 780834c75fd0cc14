"""Verified citations: markers map to the excerpts shown; unsupported sentences disappear."""

from __future__ import annotations

import pytest

from qa.scope import Lexicon, Relevance, Vocabulary, focus_of
from qa.text import split_sentences
from qa.types import Chunk, Evidence, Verdict
from qa.verification import looks_like_refusal, verify_answer

THRESHOLD = 0.45


def _evidence(n: int, text: str, source: str, start: int = 0) -> Evidence:
    chunk = Chunk(f"c{n}", source.split(".")[0], source, "Title", "Section", start,
                  start + len(text), text)
    return Evidence(n, chunk, start, start + len(text), text, 1.0)


EVIDENCE = [
    _evidence(1, "Dantrolene was originally developed for the treatment of malignant "
                 "hyperthermia, a severe reaction to certain anesthetics.", "003.txt", 100),
    _evidence(2, "Memantine blocks NMDA receptors and reduces the effects of glutamate.",
              "000.txt"),
    _evidence(3, "Common side effects of memantine include dizziness, headache, and "
                 "constipation.", "000.txt", 400),
]


@pytest.fixture(scope="module")
def verify(embedder):
    return lambda raw: verify_answer(raw, EVIDENCE, embedder, THRESHOLD)


def test_supported_sentences_keep_their_citations(verify) -> None:
    result = verify("Dantrolene was developed to treat malignant hyperthermia [1]. "
                    "Memantine blocks NMDA receptors [2].")
    assert [c.n for c in result.citations] == [1, 2]
    first = result.citations[0]
    assert (first.source, first.start, first.end) == ("003.txt", 100, 100 + len(first.text))
    assert first.support >= THRESHOLD
    assert "[1]" in result.text and "[2]" in result.text


def test_marker_pointing_to_no_excerpt_is_removed(verify) -> None:
    result = verify("Memantine blocks NMDA receptors [2][7].")
    assert "[7]" not in result.text
    assert [c.n for c in result.citations] == [2]


def test_wrong_citation_is_moved_to_the_supporting_excerpt(verify) -> None:
    result = verify("Memantine can cause dizziness, headache and constipation [1].")
    assert [c.n for c in result.citations] == [3]
    assert result.checks[0].verdict is Verdict.REATTRIBUTED
    assert result.text.endswith("[3].")


def test_an_excerpt_named_by_its_number_in_words_is_a_citation(verify) -> None:
    """"Article 3 states that…" (dev q186) was dropped: 3 is a number no excerpt states."""
    result = verify("Article 3 states that common side effects of memantine include "
                    "dizziness, headache, and constipation.")
    assert [c.n for c in result.citations] == [3]
    assert "Article 3" not in result.text and result.text.endswith("[3].")
    # a number that is not an excerpt's stays a claim to check
    assert not verify("Article 12 states that memantine blocks NMDA receptors.").citations


def test_uncited_supported_sentence_gets_a_citation(verify) -> None:
    result = verify("Dantrolene was originally developed for malignant hyperthermia.")
    assert [c.n for c in result.citations] == [1]


def test_invented_dose_is_dropped_even_when_cited(verify) -> None:
    result = verify("Dantrolene was developed for malignant hyperthermia [1]. "
                    "The usual dose of dantrolene is 500 mg twice a day [1].")
    assert "500" not in result.text
    assert [c.verdict for c in result.checks] == [Verdict.SUPPORTED, Verdict.UNSUPPORTED]


def test_answer_with_no_supported_sentence_has_no_citations(verify) -> None:
    result = verify("The usual dose of metformin is 500 mg once a day [1].")
    assert result.citations == () and result.text == ""


def test_empty_list_items_left_by_the_model_are_not_shown(verify) -> None:
    result = verify("1. 2. Common side effects of memantine include dizziness [3]. 3.\n- \n4.")
    assert result.text == "Common side effects of memantine include dizziness [3]."


def test_grouped_and_fullwidth_markers_are_understood(verify) -> None:
    result = verify("Memantine blocks NMDA receptors 【2】. Its side effects include dizziness "
                    "and headache [2, 3].")
    assert {c.n for c in result.citations} >= {2, 3}


def test_sentences_keep_their_markers() -> None:
    assert split_sentences("One fact. [1] Two facts [2]. Three.\n- A list item [3]") == [
        "One fact. [1]", "Two facts [2].", "Three.", "A list item [3]"]


def test_refusal_wording_is_recognised() -> None:
    refusal = "I could not find the answer in the indexed documents."
    assert looks_like_refusal("I could not find the answer in the indexed documents.", refusal)
    assert looks_like_refusal("The passages do not mention grapefruit.", refusal)
    assert not looks_like_refusal("Dantrolene relaxes muscles [1].", refusal)


def test_sentence_about_a_drug_the_corpus_never_mentions_is_dropped(embedder) -> None:
    vocabulary = Vocabulary.from_texts(e.text for e in EVIDENCE)
    result = verify_answer(
        "The common side effects of metformin include dizziness, headache, and constipation [3].",
        EVIDENCE, embedder, THRESHOLD, vocabulary=vocabulary)
    assert result.citations == ()
    assert result.checks[0].verdict is Verdict.UNSUPPORTED


@pytest.mark.parametrize(("sentence", "novel"), [
    # "besides", "because", "typically": words the articles never use that state nothing
    ("Memantine can cause dizziness besides headache, typically early on, because it acts "
     "on glutamate.", set()),
    ("Memantine is safe in pregnancy and for children.", {"pregnancy", "children"}),
    # the documents say "healthcare provider": "doctors" is a word for the same thing
    # ("Doctors give dantrolene for…" had been dropped as naming something new)
    ("Doctors should report dizziness to physicians.", set()),
])
def test_words_the_documents_never_use_are_novel_when_they_could_state_something(
        sentence, novel) -> None:
    vocabulary = Vocabulary.from_texts(["Memantine can cause dizziness and headache early on. "
                                        "It acts on glutamate and is safe. Tell your "
                                        "healthcare provider."])
    assert vocabulary.novel_terms(sentence) == novel


def test_a_number_ending_a_sentence_is_no_list_numbering(embedder) -> None:
    """"…are type 1 and type 2 [8]." was shown as "…are type 1 and type [8]": the "2." was
    taken for the number of a list item left empty."""
    evidence = [_evidence(1, "The two most common forms of diabetes are type 1 and type 2.",
                          "diabetes.txt")]
    result = verify_answer("The two most common forms of diabetes are type 1 and type 2 [1]. "
                           "Headache [1]. 3.", evidence, embedder, THRESHOLD)
    assert result.text.startswith(
        "The two most common forms of diabetes are type 1 and type 2 [1].")
    assert "3" not in result.text


LEXICON = Lexicon.build({doc: " ".join(e.text for e in EVIDENCE if e.chunk.doc_id == doc)
                         for doc in {e.chunk.doc_id for e in EVIDENCE}}, {})


@pytest.mark.parametrize(("question", "missing"), [
    ("Does memantine block NMDA receptors in pregnancy?", ("pregnancy",)),
    ("does dantrolene reduce the effects of grapefruit juice", ("grapefruit", "juice")),
    ("Are headaches common with memantine?", ()),  # a plural of "headache"
    ("Is memantine safe with alcohol?", ("alcohol",)),  # yes/no: more words count
    ("What are the side effects of metformin?", ("metformin",)),  # any form of question
    ("Can I take memantine tonight, or double it because I forgot?", ()),  # common words
    ("What is the half-life of memantine?", ()),  # "half" and "life" are common words
    # what is said of a thing, not a thing: "harmful", "unsuitable" were refused as
    # "never mentioned" though the documents speak of liver damage and of who may not
    # take a drug
    ("Is memantine harmful to the liver?", ("liver",)),
    ("Which patients are unsuitable for memantine?", ()),
    # a word English dictionaries do not know may be a name: it counts
    ("Is memantine teratogenic in pregnancy?", ("teratogenic", "pregnancy")),
])
def test_a_question_names_the_specific_words_the_documents_never_use(question, missing) -> None:
    assert focus_of(question, LEXICON).missing == missing


def test_a_word_for_what_the_documents_say_in_other_words_is_not_missing() -> None:
    """"I was told ketamine can raise blood pressure" was refused as never mentioning
    "raise" beside "increased blood pressure"; a thing the documents never name still is."""
    lexicon = Lexicon.build({"k": "Ketamine can cause dizziness and increased blood pressure."}, {})
    assert focus_of("Can ketamine raise blood pressure?", lexicon).missing == ()
    assert focus_of("Can ketamine raise cholesterol?", lexicon).missing == ("cholesterol",)
    # "Which patients need extra caution with dantrolene?" (dev q188) beside "This
    # precaution is particularly important…"
    lexicon = Lexicon.build({"d": "This precaution is important for dantrolene."}, {})
    assert focus_of("Which patients need extra caution with dantrolene?", lexicon).missing == ()


def test_the_drugs_of_the_documents_are_known_and_a_question_names_them() -> None:
    assert set(LEXICON.drugs) >= {"memantine", "dantrolene"}
    focus = focus_of("Does memantine differ from dantrolene?", LEXICON)
    assert focus.drugs == {"memantine", "dantrolene"} and focus.polar


def test_a_sentence_about_another_drug_or_only_restating_the_question_is_dropped(embedder):
    question = "What are the side effects of memantine?"
    relevance = Relevance.of(question, focus_of(question, LEXICON), LEXICON)
    result = verify_answer(
        "Memantine has side effects [3]. Dantrolene was originally developed for the "
        "treatment of malignant hyperthermia [1]. Common side effects of memantine include "
        "dizziness, headache, and constipation [3].", EVIDENCE, embedder, THRESHOLD,
        relevance=relevance)
    assert [c.verdict for c in result.checks] == [Verdict.ECHO, Verdict.OTHER_DRUG,
                                                  Verdict.SUPPORTED]
    assert result.text == ("Common side effects of memantine include dizziness, headache, "
                           "and constipation [3].")


def _verifier(evidence: list[Evidence], question: str, embedder, lexicon: Lexicon | None = None):
    """The verified text of a raw answer to ``question``, with relevance checks on the
    lexicon of these excerpts' documents."""
    lexicon = lexicon or Lexicon.build({e.chunk.doc_id: e.text for e in evidence}, {})
    relevance = Relevance.of(question, focus_of(question, lexicon), lexicon)
    return lambda raw: verify_answer(raw, evidence, embedder, THRESHOLD,
                                     relevance=relevance).text


def test_a_sentence_naming_something_its_excerpt_does_not_is_dropped(embedder):
    """Asked for baclofen's dose, the model put "baclofen" (named only in another page's
    list of medicines) into the dantrolene article's sentence on dosing: every other word is
    the excerpt's, the name is not. A specific name must be stated, like a number."""
    evidence = [
        _evidence(1, "The usual dose of dantrolene is a critical factor in its effective "
                     "treatment of muscle spasticity.", "003.txt"),
        _evidence(2, "Spasticity is stiffness of muscle. Treatment of spasticity may include "
                     "such medications as baclofen or diazepam.", "spasticity.txt"),
    ]
    lexicon = Lexicon.build({e.chunk.doc_id: e.text for e in evidence}, {})
    verified = _verifier(evidence, "What is the usual dose of baclofen for spasticity?",
                         embedder, lexicon)
    assert verified("The usual dose of baclofen is a critical factor in its effective "
                    "treatment of muscle spasticity [1].") == ""
    assert "baclofen" not in lexicon.drugs  # the page is about spasticity
    assert verified("Treatment of spasticity may include baclofen or diazepam [2].") == (
        "Treatment of spasticity may include baclofen or diazepam [2].")


# MedicationQA-like rows: epinephrine is named only in passing (no known drug).
PEN_ROWS = [
    _evidence(1, "Gently insert the syringe tip into the rectum until the rim is snug against "
                 "the rectal opening.", "rectal.txt"),
    _evidence(2, "Beta blockers work by blocking the effects of the hormone epinephrine, also "
                 "known as adrenaline. Beta blockers slow the heart.", "beta.txt"),
]


def test_a_question_naming_no_known_drug_is_answered_from_documents_naming_its_subject(
        embedder):
    """MedicationQA rows: "how to use an epinephrine pen" (so no drug focus) was answered
    with a rectal syringe's instructions from a row naming no epinephrine: every word
    supported, the wrong thing."""
    question = "How do I use an epinephrine pen?"
    assert "epinephrine" not in Lexicon.build({e.chunk.doc_id: e.text for e in PEN_ROWS}, {}).drugs
    verified = _verifier(PEN_ROWS, question, embedder)
    assert verified("Gently insert the syringe tip into the rectum until the rim is snug "
                    "[1].") == ""
    assert verified("Beta blockers block the effects of epinephrine [2].") == (
        "Beta blockers block the effects of epinephrine [2].")


def test_a_sentence_turning_round_what_an_excerpt_says_is_dropped(embedder):
    """Two pages disagree: the NIH page says no medicine slows Alzheimer's disease, a
    memantine article says memantine may. "Current medicines … may slow the progression"
    is lexically backed by the second and says the opposite of the first, which the model
    cited: the documents do not support it."""
    evidence = [
        _evidence(1, "Currently there are no medicines that can slow the progression of AD. "
                     "However, four FDA-approved medications are used to treat AD symptoms.",
                  "alzheimers.txt"),
        _evidence(2, "For patients with Alzheimer's disease, memantine can help manage "
                     "symptoms and may slow the progression of the disease.", "000.txt"),
    ]
    question = "Can current medicines stop Alzheimer's disease from getting worse?"
    lexicon = Lexicon.build({e.chunk.doc_id: e.text for e in evidence}, {})
    relevance = Relevance.of(question, focus_of(question, lexicon), lexicon)
    result = verify_answer("Current medicines can help manage symptoms and may slow the "
                           "progression of Alzheimer's disease [1].", evidence, embedder,
                           THRESHOLD, relevance=relevance)
    assert result.text == ""
    assert [c.verdict for c in result.checks] == [Verdict.CONTRADICTED]
    kept = verify_answer("Medications are used to treat AD symptoms [1].", evidence, embedder,
                         THRESHOLD, relevance=relevance)
    assert kept.text == "Medications are used to treat AD symptoms [1]."


@pytest.mark.parametrize(("sentence", "excerpt", "flipped"), [
    ("Ketamine can be used during pregnancy.",
     "Ketamine should not be used during pregnancy.", True),
    ("Memantine does not cause dizziness.",
     "Common side effects of memantine include dizziness, headache, and constipation.",
     False),  # the excerpt's claim has words the sentence lacks ("common", "headache")
    ("Ketamine helps with depression and anxiety.",
     "Ketamine not only helps with depression but also anxiety.", False),
    ("Dantrolene can be taken with food.", "Dantrolene can be taken with or without food.",
     False),
    ("It is effective at 10 to 30 mg/day; doses above 15 mg/day were not more effective.",
     "It is effective at 10 to 30 mg/day; doses above 15 mg/day were not more effective.",
     False),  # each clause against its own
    ("Memantine does not cause drowsiness.", "Dantrolene can cause drowsiness.", False),
    ("It is listed in books on nutrients.", "It's not listed in books\non nutrients.", True),
    # when a claim holds is not what it says (dev c039)
    ("There are medicines that can slow the progression of AD.",
     "Currently there are no medicines that can slow the progression of AD.", True),
])
def test_a_clause_restated_with_its_negation_turned_is_found(sentence, excerpt, flipped):
    lexicon = Lexicon.build({"a": "memantine memantine", "b": "dantrolene dantrolene",
                             "c": "ketamine ketamine"}, {})
    relevance = Relevance.of("What do the articles say?",
                             focus_of("What do the articles say?", lexicon), lexicon)
    assert relevance.flips(sentence, excerpt) is flipped


def test_a_flip_about_the_condition_asked_about_is_found_though_unnamed():
    """"Risk factors you can change include gender" answered "What are the risk factors for
    osteoporosis that you can control?" from "Some risk factors for osteoporosis cannot be
    changed. These include gender." (NIH SeniorHealth): the sentence leaves osteoporosis
    unnamed, so the excerpt's clause looked to be about something else."""
    lexicon = Lexicon.build({"o": "Osteoporosis thins bones. " * 3}, {}, {"o": "Osteoporosis"})
    excerpt = "Some risk factors for osteoporosis cannot be changed. These include gender."
    sentence = "Risk factors you can change include gender."

    def relevance(question: str) -> Relevance:
        return Relevance.of(question, focus_of(question, lexicon), lexicon)

    asked = "What are the risk factors for osteoporosis that you can control?"
    assert relevance(asked).flips(sentence, excerpt)
    # Asked about something else, the clause on osteoporosis is still about another thing.
    assert not relevance("What are the risk factors you can control?").flips(sentence, excerpt)


def test_an_uncited_contrast_is_checked_clause_by_clause(embedder):
    """"Memantine can cause X, while dantrolene can lead to Y", uncited: no one excerpt
    holds both halves, each half is held by its own drug's excerpt. Swapped halves are not
    held."""
    evidence = [
        _evidence(1, "Common side effects of memantine include dizziness, headache, and "
                     "constipation.", "000.txt"),
        _evidence(2, "Dantrolene can lead to muscle weakness, drowsiness, and "
                     "gastrointestinal disturbances such as nausea.", "003.txt"),
    ]
    verified = _verifier(evidence, "How do the side effects of memantine differ from those "
                         "of dantrolene?", embedder)
    contrast = ("Memantine can cause dizziness, headache, and constipation, while dantrolene "
                "can lead to muscle weakness, drowsiness, and gastrointestinal disturbances.")
    assert verified(contrast) == contrast[:-1] + " [1][2]."
    assert verified("Memantine can cause muscle weakness, drowsiness, and gastrointestinal "
                    "disturbances, while dantrolene can cause dizziness, headache, and "
                    "constipation.") == ""


@pytest.mark.parametrize("stub", [
    "Common side effects of memantine include [3].",
    "Side effects of memantine such as [3].",
    "Memantine has side effects, including: [3]",
    "Common side effects of memantine are the following: [3]",
])
def test_a_sentence_that_stops_where_its_list_begins_is_removed(embedder, stub):
    """"Hypoglycemia causes symptoms such as [7]." (a new user's question on MedlinePlus
    pages): every word is in the excerpt, and it says nothing."""
    result = verify_answer(f"Memantine blocks NMDA receptors [2]. {stub}", EVIDENCE, embedder,
                           THRESHOLD)
    assert result.text == "Memantine blocks NMDA receptors [2]."
    assert [c.verdict for c in result.checks] == [Verdict.SUPPORTED, Verdict.INCOMPLETE]
    whole = verify_answer("Common side effects of memantine include dizziness and headache "
                          "[3].", EVIDENCE, embedder, THRESHOLD)
    assert whole.text == "Common side effects of memantine include dizziness and headache [3]."


@pytest.mark.parametrize(("question", "sentence", "turned"), [
    ("Who should get the shingles vaccine?",
     "You should NOT get the shingles vaccine if you have an active case of shingles.", True),
    ("Which patients can take memantine?", "Memantine cannot be taken with amantadine.", True),
    ("Who can take ibuprofen?", "You can't take ibuprofen if you have asthma.", True),
    ("Who should get the shingles vaccine?",
     "Even if you have had shingles, you can still get the shingles vaccine.", False),
    ("Who should not take memantine?", "You should not take memantine if allergic.", False),
    ("Should I avoid driving after taking dantrolene?", "You should not drive.", False),
])
def test_who_should_is_not_answered_with_who_should_not(question, sentence, turned):
    from qa.scope import turns_round

    assert turns_round(question, sentence) is turned


def test_a_sentence_answering_the_question_turned_round_is_removed(embedder):
    """"Who should get the shingles vaccine?" was answered first with who should NOT get it
    (MedlinePlus pages): true, supported, and the opposite of what was asked."""
    evidence = [
        _evidence(1, "You should not get the shingles vaccine if you have an active case of "
                     "shingles.", "vaccine.txt"),
        _evidence(2, "Even if you have had shingles, you can still get the shingles vaccine.",
                  "vaccine.txt", 200),
    ]
    question = "Who should get the shingles vaccine?"
    lexicon = Lexicon.build({e.chunk.doc_id: e.text for e in evidence}, {})
    relevance = Relevance.of(question, focus_of(question, lexicon), lexicon)
    result = verify_answer("You should not get the shingles vaccine if you have an active case "
                           "of shingles [1]. Even if you have had shingles, you can still get "
                           "the shingles vaccine [2].", evidence, embedder, THRESHOLD,
                           relevance=relevance)
    assert result.text == ("Even if you have had shingles, you can still get the shingles "
                           "vaccine [2].")
    assert [c.verdict for c in result.checks] == [Verdict.TURNED, Verdict.SUPPORTED]


def test_a_claim_about_two_compared_drugs_needs_an_excerpt_about_each(embedder):
    """"Memantine and dantrolene are used for depression, anxiety disorders, and certain
    types of chronic pain" was held by the memantine excerpt alone (dev q189): the article
    on dantrolene says nothing of depression. A contrast backed clause by clause stays."""
    evidence = [
        _evidence(1, "Memantine is being studied for depression, anxiety disorders, and "
                     "certain types of chronic pain.", "000.txt"),
        _evidence(2, "Dantrolene is used for multiple sclerosis and cerebral palsy.", "003.txt"),
    ]
    lexicon = Lexicon.build({"000": "Memantine memantine memantine. " + evidence[0].text,
                             "003": "Dantrolene dantrolene dantrolene. " + evidence[1].text}, {})
    verify = _verifier(evidence, "What conditions are memantine and dantrolene used for?",
                       embedder, lexicon)
    assert verify("Memantine and dantrolene are used for depression, anxiety disorders, and "
                  "certain types of chronic pain [1].") == ""
    assert verify("Memantine is being studied for depression, anxiety disorders, and certain "
                  "types of chronic pain [1].").startswith("Memantine is being studied")
    assert verify("Memantine is being studied for depression, while dantrolene is used for "
                  "multiple sclerosis and cerebral palsy [1][2].") != ""
