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

from .conftest import answer_of, indexed_pages, page_text, settings_for
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


ALLERGY = """# Allergy pills: cetirizine (Zyrtec), loratadine (Claritin), diphenhydramine (Benadryl)

## Which one to choose

Cetirizine (Zyrtec) is taken once a day. Cetirizine may cause mild sleepiness.

Loratadine (Claritin) is taken once a day with or without food. It rarely causes sleepiness.

Diphenhydramine (Benadryl) is taken every 4 to 6 hours. It causes strong sleepiness, so it
should not be taken before driving.

## Keeping the pills

Keep the blister packs at room temperature, away from moisture and out of the reach of
children."""


@pytest.fixture(scope="module")
def allergy_page(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("allergy"),
                         {"allergy.md": page_text(ALLERGY)}, embedder)


def test_a_line_naming_no_drug_on_a_class_page_is_its_paragraphs_drugs(
        allergy_page: Path, embedder) -> None:
    """Round 13: a page about several drugs had one of them (or "hypoglycemia") for its
    main drug, so every line naming no drug was that one's: a glipizide question lost the
    page's list of what to eat for a low, and a line in one drug's paragraph could answer
    for another. Such a line is about the drug its paragraph names last, and a line in no
    drug's paragraph is about every drug the page names."""
    from qa.answer import Assistant

    from .fakes import FakeGenerator

    assistant = Assistant.load(settings=settings_for(allergy_page), embedder=embedder,
                               generator=FakeGenerator("x"))
    lexicon = assistant.lexicon
    assert "allergy" in lexicon.several and "allergy" not in lexicon.doc_drug
    loratadine = lexicon.drugs["claritin"]
    relevance = Relevance.of("Does Claritin make you sleepy?",
                             focus_of("Does Claritin make you sleepy?", lexicon), lexicon)
    about = {s: relevance.about(c, s) for c in assistant.retriever.index.chunks
             for s in ("It rarely causes sleepiness.",
                       "It causes strong sleepiness, so it should not be taken before driving.",
                       "Keep the blister packs at room temperature, away from moisture and "
                       "out of the reach of children.") if s in c.text}
    assert loratadine in relevance.focus.drugs
    assert list(about.values()) == [True, False, True]


def test_a_class_pages_general_line_answers_for_a_drug_it_names(allergy_page: Path,
                                                               embedder) -> None:
    """The storage line, in no drug's paragraph, is shown for loratadine and backs a
    sentence naming it (``citing`` fails when the line is not in the prompt)."""
    answer = answer_of(allergy_page, embedder, "how should i store my loratadine?",
                       citing("room temperature", "Keep loratadine at room temperature, "
                              "away from moisture [n]."))
    assert "room temperature" in answer.text and not answer.refused


SCABIES_LIKE = """# Itch mite creams

Crotamiton lotion, 10%. Brand name product: Eurax. It is applied to the whole body.

Malathion lotion, 0.5%. Brand name products: Ovide, Rid, Triple X. It is applied to the
hair.

Dimenhydrinate is a type of medicine called an antihistamine. It may be in medicines
with these brand names: Dramamine, Gravol."""


def test_brands_listed_in_words_are_names_of_the_drug_before_them() -> None:
    """Round 13: "Permethrin lotion, 1%. Brand name product: Nix." paired nothing, so "can
    i use nix on her" was refused as about something the pages never name. A listed brand
    that is an everyday word ("Rid", "Triple") names nothing: "how do i get rid of them"
    asks about no drug."""
    text = page_text(SCABIES_LIKE)
    aliases = QueryNormaliser.from_texts([text]).aliases
    lexicon = Lexicon.build({"itch": text}, aliases, {"itch": "Itch mite creams"})
    assert lexicon.drugs["eurax"] == lexicon.drugs["crotamiton"]
    assert lexicon.drugs["ovide"] == lexicon.drugs["malathion"]
    assert lexicon.drugs["gravol"] == lexicon.drugs["dramamine"] \
        == lexicon.drugs["dimenhydrinate"]
    assert "rid" not in lexicon.drugs and "triple" not in lexicon.drugs


def test_a_pronoun_taken_or_refilled_is_the_medicine_not_the_condition(chat_pages: Path,
                                                                       embedder) -> None:
    """Round 13: "my refill of it came as yellow pills" after "…started me on topamax 25 mg.
    can i take an extra one when a migraine starts" asked about the migraine, and "my sister
    takes propanolol for hers too, the inderal xl. when is she supposed to take it" was
    asked "…supposed to take migraine"."""
    forms = _forms(chat_pages, embedder,
                   "my mom just started fosamax. can anemia make her tired?",
                   "my refill of it came as white pills, is that normal")
    assert "anemia" not in forms[1] and "fosamax" in forms[1].lower()
    forms = _forms(chat_pages, embedder, "can anemia make you tired?",
                   "my sister takes fosamax. when is she supposed to take it")
    assert "anemia" not in forms[1]
    # "them" is not a condition named in the singular: "does he really need to finish them
    # all" after "…has strep, the dr gave him penicillin pills" (round 14)
    forms = _forms(chat_pages, embedder, "my mom has anemia and her dr gave her fosamax "
                   "pills. how many days does she take them",
                   "she feels fine tho, does she really need to keep on with them")
    assert "fosamax" in forms[1].lower()
    # a pronoun the condition does something to is still the condition
    forms = _forms(chat_pages, embedder, "can anemia make you tired?",
                   "does iron treat it?")
    assert "anemia" in forms[1]


def test_a_message_naming_nothing_goes_on_from_what_was_asked(chat_pages: Path,
                                                              embedder) -> None:
    """Round 13: "we gave him the first dose like 3 weeks ago and totally forgot the second
    one. what now" after "my 6 yr old has pinworms, can i just buy something otc…" was
    asked on its own, and the head lice page's retreatment line answered it."""
    forms = _forms(chat_pages, embedder, "my son has purines in his blood, is that bad?",
                   "we gave him the first dose 3 weeks ago and forgot the second one. what now")
    assert "purines" in forms[1]
    forms = _forms(chat_pages, embedder, "how much alendronate can my mom take",
                   "she skipped it for a week and her doctor is away. what now")
    assert "alendronate" in forms[1]
    # a message naming a thing of its own is asked as typed
    for other in ("does orange juice help the body absorb iron",
                  "What is the capital of France?"):
        forms = _forms(chat_pages, embedder, "how much alendronate can my mom take", other)
        assert forms[1] == other


CREAMS = """# Steroid creams

Betamethasone cream is applied as a thin film once daily to eczema. Guaifenesin loosens
mucus. Do not cover the treated skin unless the doctor says so. Children should drink
plenty of water when they have a bladder infection."""


@pytest.mark.parametrize("question", [
    "derm gave me betamethasone cream for eczema on my hands. how often do i put it on",
    "my daughter is 6, her pediatrician put her on antibiotics for a bladder infection 2 "
    "days ago and shes fine now. ok to just stop the rest of it?",
    "my brother has eczema, can he use plain betamethasone",
    "pretty sure i have eczema. can i just grab something otc at walgreens",
    "should i make her drink water to flush it out",
])
def test_who_told_a_verb_a_shop_and_a_drugs_adjective_are_nothing_missing(
        question: str) -> None:
    """Round 14: the carer who prescribed ("derm", "pediatrician"), a word a verb comes
    after made into a noun ("to flush it out", "can i just grab"), a shop after "at" and
    an adjective before a drug's name were refused as things the pages never mention."""
    lexicon = Lexicon.build({"c": page_text(CREAMS)}, {}, {"c": "Steroid creams"})
    asked = in_plain_words(question)
    assert focus_of(" ".join(terms(asked)), lexicon, asked).missing == ()


@pytest.mark.parametrize("question", ["can i have a couple of beers with it",
                                      "can i put coconut oil on her eczema instead",
                                      "can he take ozempic with guaifenesin"])
def test_things_and_drugs_the_pages_never_name_are_still_missing(question: str) -> None:
    lexicon = Lexicon.build({"c": page_text(CREAMS)}, {}, {"c": "Steroid creams"})
    asked = in_plain_words(question)
    assert focus_of(" ".join(terms(asked)), lexicon, asked).missing != ()


def test_names_in_capitals_pair_unless_a_brand_is_two_drugs() -> None:
    """"MECLIZINE (ANTIVERT, BONINE)" pairs names as "meclizine (Antivert)" does; a brand a
    page gives two drugs ("…(ANTIVERT, DRAMAMINE, BONINE)", "DIMENHYDRINATE (DRAMAMINE,
    GRAVOL)") pairs with neither, or the two became one drug."""
    text = ("NAUSEA MEDICINES\n\nMECLIZINE (ANTIVERT, DRAMAMINE, BONINE)\n\nMeclizine treats "
            "motion sickness.\n\nDIMENHYDRINATE (DRAMAMINE, GRAVOL)\n\nDimenhydrinate is an "
            "antihistamine.\n\nOVERACTIVE THYROID (HYPERTHYROIDISM)")
    aliases = QueryNormaliser.from_texts([text]).aliases
    lexicon = Lexicon.build({"n": text}, aliases, {"n": "Nausea medicines"})
    assert lexicon.drugs["bonine"] == lexicon.drugs["antivert"] == lexicon.drugs["meclizine"]
    assert lexicon.drugs["gravol"] == lexicon.drugs["dimenhydrinate"]
    assert lexicon.drugs["meclizine"] != lexicon.drugs["dimenhydrinate"]
    assert "dramamine" not in aliases and "thyroid" not in aliases


MOTION = """MOTION SICKNESS MEDICINES

MECLIZINE (ANTIVERT, BONINE)

Meclizine is the generic name for the prescription drug called Antivert and the
over-the-counter medicine known as Bonine. Meclizine is used to treat motion sickness.

DIMENHYDRINATE (GRAVOL)

Dimenhydrinate is an antihistamine used for nausea and vomiting."""


def test_asked_whether_two_names_are_one_drug_the_line_pairing_them_answers(
        tmp_path: Path, embedder) -> None:
    """Rounds 13 and 14: "is bonine the same thing as antivert" and "…nitrofurantoin but my
    dr said she was sending in macrobid?? is that the same thing" were refused: the line
    pairing the names shares few words with the question and scored under the bar."""
    index = indexed_pages(tmp_path, {"motion.txt": page_text(MOTION)}, embedder)
    answer = answer_of(index, embedder, "is bonine the same thing as antivert",
                       "I don't know.")
    assert "generic name for the prescription drug called Antivert" in answer.text
    assert answer.text.startswith("Yes.")
    # names of two drugs are not said to be one
    answer = answer_of(index, embedder, "is bonine the same thing as gravol", "I don't know.")
    assert answer.refused


DEMENTIA = """# Alzheimer's medicines

For people with mild to moderate Alzheimer's, donepezil (Aricept) or galantamine
(Razadyne) may help. Donepezil is also approved to treat symptoms of moderate to severe
Alzheimer's. Another drug, memantine (Namenda), is used to treat symptoms of moderate to
severe Alzheimer's, although it also has limited effects.

All of these medicines may cause nausea, vomiting, diarrhea and loss of appetite."""


def test_asked_whether_two_drugs_are_one_the_lines_naming_each_say_no(
        tmp_path: Path, embedder) -> None:
    """Round 16: "is namenda the same thing as aricept? her friend takes that one" was
    refused; the page names each with its generic name, in sentences apart ("…donepezil
    (Aricept)… Another drug, memantine (Namenda)…"). The answer says no and quotes the
    lines naming both; names the page pairs as one still get yes."""
    index = indexed_pages(tmp_path, {"dementia.md": page_text(DEMENTIA)}, embedder)
    answer = answer_of(index, embedder,
                       "is namenda the same thing as aricept? her friend takes that one",
                       "I don't know.")
    assert answer.text.startswith("No.")
    assert "memantine (Namenda)" in answer.text and "donepezil (Aricept)" in answer.text
    answer = answer_of(index, embedder, "is namenda the same thing as memantine?",
                       "I don't know.")
    assert not answer.text.startswith("No")


def test_a_name_before_its_salt_is_a_drug_and_the_salt_none() -> None:
    """Round 16: "Trospium chloride tablets should be dosed at least one hour before
    meals" left "trospium" unknown (no WHO stem) and made "chloride" a drug, by "oxybutynin
    chloride (Ditropan)"; "should i take my trospium with breakfast" was refused."""
    lexicon = Lexicon.build({"b": "Bladder medicines. Trospium chloride tablets should be "
                                  "dosed at least one hour before meals. Oxybutynin chloride "
                                  "(Ditropan) may cause dry mouth. Losartan potassium, "
                                  "calcium and sodium are named apart. Bladder medicines "
                                  "help."},
                            {"ditropan": {"chloride", "oxybutynin"},
                             "chloride": {"ditropan"}, "oxybutynin": {"ditropan"}},
                            {"b": "Bladder medicines"})
    assert {"trospium", "oxybutynin", "losartan"} <= set(lexicon.drugs)
    assert not {"chloride", "potassium", "calcium"} & set(lexicon.drugs)
    assert lexicon.drugs["ditropan"] == lexicon.drugs["oxybutynin"]


def test_an_everyday_word_mistyped_is_read_as_that_word() -> None:
    """Round 15: "whats the diffrence between the excimer laser and the pulsed dye laser"
    was refused as about "diffrence"; a mistyped everyday noun a yes/no question needs is
    still missing when the pages never use it ("alchol")."""
    lexicon = Lexicon.build({"c": page_text(CREAMS)}, {}, {"c": "Steroid creams"})
    for question, missing in (
            ("whats the diffrence between betamethasone cream and guaifenesin", ()),
            ("can i drink alchol with betamethasone", ("alchol",)),
            ("can i put a patch over the betamethasone cream", ("patch",))):
        asked = in_plain_words(question)
        assert focus_of(" ".join(terms(asked)), lexicon, asked).missing == missing


def test_words_no_one_writes_and_chat_spellings_are_the_words_meant() -> None:
    """Round 15: "will the blood test come out falsley positive" and "what antibiotics do
    they give thru the iv" were refused as about "falsley" and "thru". A word no one writes
    is read as an English word one letter away, not a rarer brand ("requip" is no "equip"),
    and a misspelled drug still names itself."""
    from qa.scope import unseen_typo

    assert unseen_typo("dermatoligist") == "dermatologist"
    assert unseen_typo("falsley") == "falsely"
    assert unseen_typo("requip") is None and unseen_typo("dostinex") is None
    lexicon = Lexicon.build({"c": page_text(CREAMS)}, {}, {"c": "Steroid creams"})
    for question, missing in (
            ("will the betamethasone cream come out falsley positive on a test", ()),
            ("how do they give betamethasone thru the skin", ()),
            ("can i use betamethasone with bromocriptin", ("bromocriptin",)),
            # round 16: a letter typed over and over, a possessive without its apostrophe,
            # tablets as "tabs"
            ("my skin is soooo dry from the betamethasone cream, is that normal", ()),
            ("can i use yesterdays betamethasone cream", ()),
            # round 17: "whats the diff between humira and remicade"
            ("whats the diff between betamethasone and guaifenesin", ())):
        asked = in_plain_words(question)
        assert focus_of(" ".join(terms(asked)), lexicon, asked).missing == missing
    assert in_plain_words("her mouth is soooo dry, it was goooood, see www.nhs.uk") == \
        "her mouth is so dry, it was good, see www.nhs.uk"
    pills = Lexicon.build({"p": "Cyanocobalamin pills are taken once a day."}, {})
    asked = "is it bad that my cyanocobalamin tabs are 1000 mcg"
    assert focus_of(" ".join(terms(asked)), pills, asked).missing == ()


PSORIASIS = """# Psoriasis treatments

## Methotrexate

- used to treat severe psoriasis
- Label starting doses: 10 to 25 mg per week as a single weekly dose.
- Avoid alcohol while taking this medicine."""


def test_a_drug_under_its_own_heading_is_what_it_stands_for_not_the_doctor(
        tmp_path: Path, embedder) -> None:
    """Round 15: "his dermatoligist wants to try methotrexate. whats the usual dose a week",
    then "can he still have a couple beers while hes on it" asked about the dermatologist:
    no rule knew methotrexate (now a WHO stem, "-trexate") and the misspelled doctor was the
    rarest run of words."""
    index = indexed_pages(tmp_path, {"psoriasis.md": page_text(PSORIASIS)}, embedder)
    forms = _forms(index, embedder,
                   "his dermatoligist wants to try methotrexate. whats the usual dose a week",
                   "can he still have a couple beers while hes on it")
    assert "methotrexate" in forms[1] and "dermatoligist" not in forms[1]


def test_who_stems_name_drugs_but_not_a_class() -> None:
    """Methotrexate and carbamazepine are drugs by their WHO stems; "benzodiazepine" is a
    class (read as a drug, dev q305 "isnt clonazepam a benzodiazepine?" lost its "Yes.")."""
    drugs = Lexicon.build({"p": "Clonazepam is a benzodiazepine. Methotrexate and "
                                "carbamazepine are other medicines. Clonazepam helps."}, {}).drugs
    assert "methotrexate" in drugs and "carbamazepine" in drugs
    assert "benzodiazepine" not in drugs


LAXATIVES = """# Constipation and hemorrhoids

Hemorrhoids are swollen veins. Hemorrhoids can itch. Hemorrhoids may bleed. Straining can
cause hemorrhoids.

2. Polyethylene glycol
Brand name: MiraLAX.
- Label warning: Stop use and ask a doctor if you need a laxative for over 1 week."""
LICE = """Lice treatments: pyrethrins combined with piperonyl butoxide. Brand name products:
Pronto, Licide."""


def test_a_guessed_main_word_leaves_a_line_to_its_paragraphs_drug() -> None:
    """Round 14: on a laxatives page whose most used rare word is "hemorrhoids", MiraLAX's
    label warning (naming no drug) was "hemorrhoids'", and a MiraLAX question lost it. And a
    generic's brands are one drug whatever their alphabetical order (Licide, Pronto)."""
    text, lice = LAXATIVES, page_text(LICE)  # the lines kept as typed
    aliases = QueryNormaliser.from_texts([text, lice]).aliases
    lexicon = Lexicon.build({"lax": text, "lice": lice}, aliases,
                            {"lax": "Constipation, laxatives, fiber and hemorrhoids"})
    assert "lax" in lexicon.guessed and "lax" not in lexicon.several
    from qa.types import Chunk

    chunk = Chunk("lax-0", "lax", "lax.md", "Constipation", "", 0, len(text), text)
    warning = next(line for line in text.splitlines() if line.startswith("- Label"))
    assert lexicon.drugs["miralax"] in lexicon.context_drugs(chunk, warning)
    assert lexicon.drugs["pronto"] == lexicon.drugs["licide"] == lexicon.drugs["pyrethrins"]


CROHNS = """# Crohn's disease medicines

## Biologic therapies

Biological therapies are given by an injection in the vein, infliximab (Remicade), or an
injection in the skin, adalimumab (HUMIRA). Side effects may include a toxic reaction to
the medication and a higher chance of developing infections, particularly tuberculosis."""


def test_two_drugs_given_each_what_the_page_gives_the_other_are_not_said(
        tmp_path: Path, embedder) -> None:
    """Round 17: "whats the diff between humira and remicade" got "Humira is given by an
    injection in the vein, while Remicade is given by an injection in the skin" (held, its
    words all in the excerpt; the page says the reverse). The sentence the right way round
    stands."""
    index = indexed_pages(tmp_path, {"crohns.md": page_text(CROHNS)}, embedder)
    swapped = answer_of(index, embedder, "whats the diff between humira and remicade",
                        "Humira is given by an injection in the vein, while Remicade is "
                        "given by an injection in the skin [1].")
    assert "Humira is given by an injection in the vein" not in swapped.text
    right = answer_of(index, embedder, "whats the diff between humira and remicade",
                      "Remicade is given by an injection in the vein, while Humira is given "
                      "by an injection in the skin [1].")
    assert "Remicade is given by an injection in the vein" in right.text
