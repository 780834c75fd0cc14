"""Pages about classes of drugs, and the words customers use around them.

An eleventh round of questions nobody here wrote, on pages about heartburn medicines, blood
pressure medicines and Parkinson's medicines, found: "H2 blockers (Pepcid, Tagamet…)" and
"Proton pump inhibitors (Prilosec…)" had made "blockers" Pepcid's name and "inhibitors"
Prilosec's and the ACE inhibitor page's drug at once; "Low Blood Pressure (Hypotension)"
made "pressure" a drug; "are the agonist ones as good as levodopa?" got "Yes." before
"Dopamine agonists are generally less effective than levodopa…"; and questions were
refused as about "grandma", "glass" (of wine) or "bactrim" (written "bactrim (trimethoprim
sulfa)"). A fake model writes the replies (so each branch is reached on purpose); the index
and the embedder are real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.finishing import polarity_of
from qa.query import QueryNormaliser
from qa.questions import in_plain_words
from qa.scope import Lexicon, Relevance, focus_of
from qa.text import terms

from .conftest import answer_of, indexed_pages, page_text
from .fakes import citing

HEARTBURN = """# Heartburn medicines

Antacids (Tums, Maalox, Mylanta) neutralize stomach acid. H2 blockers (Pepcid, Tagamet,
Axid) reduce the acid the stomach makes. Famotidine (Pepcid) is taken twice a day.

Proton pump inhibitors (Prilosec, Nexium) block acid production. Omeprazole (Prilosec)
is taken before breakfast. Esomeprazole (Nexium) is taken once a day."""
BLOOD_PRESSURE = """# Blood pressure medicines

ACE inhibitors such as benazepril (Lotensin) and enalapril relax the blood vessels. ACE
inhibitors can cause a dry cough.

## Low Blood Pressure (Hypotension)

Standing up slowly helps when ACE inhibitors make you dizzy."""
PARKINSONS = """# Parkinson's medicines

Levodopa is the most effective medicine for Parkinson's disease. Dopamine agonists are
generally less effective than levodopa in controlling rigidity and slow movement. They
can cause confusion in older adults. Alcohol can make the side effects of levodopa worse.
"""


def _lexicon() -> Lexicon:
    texts = {"heartburn": HEARTBURN, "bp": BLOOD_PRESSURE, "pd": PARKINSONS}
    aliases = QueryNormaliser.from_texts(list(texts.values())).aliases
    return Lexicon.build(texts, aliases, {"heartburn": "Heartburn medicines",
                                          "bp": "Blood pressure medicines",
                                          "pd": "Parkinson's medicines"})


def test_a_class_named_before_a_list_of_brands_is_none_of_their_names() -> None:
    """Pepcid is famotidine and Prilosec omeprazole, not "blockers" and "inhibitors"; a
    dosage form and a very common word are no drug's other name."""
    lexicon = _lexicon()
    assert lexicon.drugs["pepcid"] == lexicon.drugs["famotidine"]
    assert lexicon.drugs["prilosec"] == lexicon.drugs["omeprazole"]
    assert "blockers" not in lexicon.drugs and "pressure" not in lexicon.drugs
    assert lexicon.drugs["lotensin"] == lexicon.drugs["benazepril"]
    # one drug in brackets after a plural still pairs: "conjugated estrogens (Premarin)"
    aliases = QueryNormaliser.from_texts(["Take conjugated estrogens (Premarin) daily.",
                                          "Other page."]).aliases
    assert aliases["premarin"] == {"estrogens"}


@pytest.mark.parametrize(("question", "text", "way"), [
    ("are the agonist ones as good as levodopa?",
     "Dopamine agonists are generally less effective than levodopa in controlling rigidity.",
     "no"),
    ("is levodopa stronger than the agonists?",
     "Dopamine agonists are generally less effective than levodopa in controlling rigidity.",
     None),  # which is stronger is said of the agonists, the way the question is not asked
    ("are omeprazole tablets as effective as esomeprazole?",
     "Omeprazole tablets are as effective as esomeprazole for heartburn.", "yes"),
    ("are higher doses of levodopa more effective than the usual dose?",
     "Higher doses of levodopa were not more effective than the usual dose.", "no"),
    ("is it safe to take more than 2 tums a day?",
     "Do not take more than 15 tablets in 24 hours.", None),  # an amount, no comparison
])
def test_a_comparison_is_answered_by_the_way_the_text_compares(
        question: str, text: str, way: str | None) -> None:
    lexicon = _lexicon()
    relevance = Relevance.of(question, focus_of(" ".join(terms(question)), lexicon,
                                                question), lexicon)
    assert polarity_of(question, text, relevance) == way


def test_as_good_as_is_not_answered_yes_by_less_effective_than(tmp_path: Path,
                                                                embedder) -> None:
    """The model's "Yes, dopamine agonists are generally less effective than levodopa…":
    the documents say no, and the answer says "No."."""
    index = indexed_pages(tmp_path, {"pd.md": page_text(PARKINSONS)}, embedder)
    answer = answer_of(index, embedder, "are the agonist ones as good as levodopa?",
                       "Yes, dopamine agonists are generally less effective than levodopa in "
                       "controlling rigidity and slow movement [1].")
    assert answer.text.startswith("No.")
    assert "less effective" in answer.text


@pytest.mark.parametrize("question", [
    "is there a special flu shot for my grandma, shes 82",
    "is it ok if he has a glass of wine with his levodopa",
    "im on enalapril and the doc wants to put me on bactrim (trimethoprim), is that ok",
])
def test_who_it_is_for_an_amount_and_an_explained_name_ask_about_nothing_missing(
        question: str) -> None:
    lexicon = Lexicon.build({"v": "The flu shot is given every year. A high-dose flu shot is "
                                  "for people 65 and older. Alcohol can make the side "
                                  "effects of levodopa worse. Trimethoprim with an ACE "
                                  "inhibitor such as enalapril raises potassium.",
                             "w": "Wine and beer are alcohol."}, {})
    asked = in_plain_words(question)
    assert focus_of(" ".join(terms(asked)), lexicon, asked).missing == ()
    # the same words as the topic asked about are still missing
    assert focus_of("is grandma flu shot safe", lexicon, "is grandma flu shot safe"
                    ).missing == ()  # a relation is never a topic
    assert focus_of("is a glassware cleaner safe", lexicon,
                    "is a glassware cleaner safe").missing != ()


GOUT = """# Gout and allopurinol

Allopurinol lowers uric acid. Start with a low dose of allopurinol (100 mg daily) and
increase at weekly intervals by 100 mg. The maximal recommended dosage is 800 mg daily.
Eating too many foods rich in purines can cause gout."""
IRON = """# Iron deficiency anemia

Anemia is a condition in which the blood lacks healthy red blood cells. Symptoms of anemia
include tiredness and shortness of breath. Iron deficiency anemia is treated with iron
supplements. Iron supplements can cause side effects, such as dark stools and
constipation. Vitamin C helps the body absorb iron, so iron can be taken with orange
juice."""
OSTEOPOROSIS = """# Osteoporosis medicines

Fosamax (alendronate) is taken with plain water at least 30 minutes before breakfast.
Wait at least half an hour after alendronate before taking calcium. Coffee reduces how
much alendronate is absorbed. After 5 years the need for alendronate is rechecked."""


@pytest.fixture(scope="module")
def chat_pages(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("chat"), {
        "gout.md": page_text(GOUT), "iron.md": page_text(IRON),
        "osteoporosis.md": page_text(OSTEOPOROSIS)}, embedder)


def _forms(index: Path, embedder, *messages: str) -> list[str]:
    from qa.answer import Assistant
    from qa.conversation import Turn, standalone_questions

    from .conftest import settings_for
    from .fakes import FakeGenerator

    assistant = Assistant.load(settings=settings_for(index), embedder=embedder,
                               generator=FakeGenerator("x"))
    return standalone_questions([Turn("user", m) for m in messages], assistant.lexicon,
                                assistant.spelled)


def test_a_misspelled_drug_is_the_one_the_next_turns_ask_about(chat_pages: Path,
                                                              embedder) -> None:
    """"allopurinal" is allopurinol: "does he start on that much right away?" asks about
    it (the amount the last answer gave), and "whats the brand name of it" too; read as
    typed, the first named no drug and the second asked for the brand of "start"."""
    forms = _forms(chat_pages, embedder,
                   "my dad was put on allopurinal for his gout, whats the most he can take",
                   "does he start on that much right away?", "whats the brand name of it")
    assert "allopurinol" in forms[0]
    assert forms[1] == "Does he start on that much right away (allopurinol)?"
    assert forms[2] == "What's the brand name of allopurinol"
    # the chat answers what it searched for: the same forms
    from qa.answer import Assistant
    from qa.conversation import Turn

    from .conftest import settings_for
    from .fakes import FakeGenerator

    assistant = Assistant.load(settings=settings_for(chat_pages), embedder=embedder,
                               generator=FakeGenerator("x"))
    answer = assistant.chat([Turn("user", "my dad was put on allopurinal for his gout, "
                                          "whats the most he can take"),
                             Turn("assistant", "800 mg."),
                             Turn("user", "does he start on that much right away?")])
    assert answer.standalone_question == forms[1]


def test_them_after_a_condition_is_the_pills_not_the_condition(chat_pages: Path,
                                                               embedder) -> None:
    """"since she started them" after a question on anemia is not "started anemia"; "should
    she take them with orange juice" then asks about the iron the question asked about,
    not the "poop" it told of."""
    forms = _forms(chat_pages, embedder,
                   "my daughter has iron deficiency anemia. how much iron does she need",
                   "her poop has turned really dark since she started them, is that from "
                   "the iron?", "should she take them with orange juice")
    assert "anemia" not in forms[1]
    assert forms[2] == "Should she take iron with orange juice"


def test_a_turn_going_on_keeps_the_drug_for_the_next_pronoun(chat_pages: Path,
                                                             embedder) -> None:
    """"ok and when can she take her calcium pill" goes on from Fosamax (nine words: longer
    than a short follow-up), so "can she just stop it?" after it is about Fosamax, not
    calcium."""
    forms = _forms(chat_pages, embedder,
                   "my mom takes fosamax, can she take it with her morning coffee",
                   "ok and when can she take her calcium pill",
                   "shes been on it like 6 years now, can she just stop it?")
    assert forms[1] == "Ok and when can she take her calcium pill (fosamax)?"
    assert "stop fosamax" in forms[2]


MIGRAINE = """# Migraine medicines

## Preventing migraine

Propranolol is used to prevent migraine headaches. Take propranolol at the same time every
day.

## Other medicines

Verapamil is a calcium channel blocker. It relaxes the blood vessels so the heart does not
have to pump as hard. Do not stop taking verapamil without talking to your doctor."""


def test_a_drug_named_on_a_class_page_is_known_by_its_stem(tmp_path: Path, embedder) -> None:
    """Round 13: verapamil, permethrin, meclizine, glipizide were no drug the pages knew
    (no stem of theirs was listed), so a sentence about one could be backed by a line
    about another drug on the same page."""
    index = indexed_pages(tmp_path, {"migraine.md": page_text(MIGRAINE)}, embedder)
    def reply(prompt) -> str:  # cites the propranolol line when it is shown, else [1]
        try:
            return citing("propranolol is used to prevent",
                          "Verapamil is used to prevent migraine headaches [n].")(prompt)
        except AssertionError:
            return "Verapamil is used to prevent migraine headaches [1]."
    answer = answer_of(index, embedder, "What is verapamil used for?", reply)
    assert "prevent migraine" not in answer.text
