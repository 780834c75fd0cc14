"""Label pages and a health article asked about in a reader's words.

A second round of questions nobody here wrote, on drug-label passages and an NIDDK
article: amounts said in words, brands marked only by "®", a definition in brackets with a
"cannot" in it, and a study of many drugs on one drug's page. A fake model writes the
reply (so each branch is reached on purpose); the index and the embedder are real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.scope import Lexicon, focus_of

from .conftest import answer_of, indexed_pages, page_text
from .fakes import citing

PAGES = {name: page_text(text) for name, text in {
    "acetaminophen.md": """# Acetaminophen

## Directions

do not take more than 6 caplets in 24 hours, unless directed by a doctor

adults and children 12 years and over: take 2 caplets every 6 hours while symptoms last

swallow whole – do not crush, chew, or dissolve""",
    "simvastatin.md": """# Simvastatin

## Why is this medication prescribed

Simvastatin is used together with diet, weight-loss, and exercise to reduce the risk of
heart attack and stroke. Simvastatin may also be used to decrease the amount of
cholesterol and other fatty substances in the blood in children and teenagers 10 to 17
years of age who have familial heterozygous hypercholesterolemia (an inherited condition
in which cholesterol cannot be removed from the body normally). Simvastatin is in a
class of medications called HMG-CoA reductase inhibitors (statins).

## OVERDOSAGE

A few cases of overdosage with simvastatin have been reported; the maximum dose taken was
3.6 g. All patients recovered without sequelae.""",
    "hydrochlorothiazide.md": """# Hydrochlorothiazide

## Brand names

Esidrix®¶ Hydrodiuril®¶ Microzide® Oretic® Zide®¶

## DOSAGE AND ADMINISTRATION

For Control of Hypertension: The usual initial dose in adults is 25 mg daily given as a
single dose.""",
    "lidocaine.md": """# Lidocaine

## At a government stockpile, drugs don't expire as fast

A 2006 study of 122 drugs tested by the program showed that two-thirds of the expired
medications were stable every time a lot was tested. Each of them had their expiration
dates extended, on average, by more than four years.

Some that failed to hold their potency include the common asthma inhalant albuterol and
a local anesthetic made from lidocaine and epinephrine, the study said.

## DOSAGE AND ADMINISTRATION

For irritated or inflamed mucous membranes of the mouth, the usual adult dose is 15 mL
undiluted.""",
    "blood_pressure.md": """# High Blood Pressure and Kidney Disease

## What to do for High Blood Pressure and Kidney Disease?

People who are overweight or obese should aim to reduce their weight by 7 to 10 percent
during the first year of treatment for high blood pressure.

In addition, consuming too much alcohol raises blood pressure, so people should limit
alcoholic drinks to two per day for men and one per day for women.

People who smoke should quit. Smoking can damage blood vessels and raise the chance of
high blood pressure.""",
    "amlodipine.md": """# Amlodipine

## How should this medicine be used?

Continue to take amlodipine even if you feel well. Do not stop taking amlodipine without
talking to your doctor.

## Why is this medication prescribed?

Amlodipine is used alone or in combination with other medications to treat high blood
pressure and chest pain (angina).""",
    "oxycodone.md": """# Oxycodone

## DOSAGE AND ADMINISTRATION

When a patient no longer requires therapy with oxycodone tablets, taper the dose
gradually, by 25% to 50% every 2 to 4 days. Do not abruptly discontinue oxycodone tablets
in a physically-dependent patient.""",
    "lansoprazole.md": """# Lansoprazole

## CONSUMER INFORMATION

Swallow 1 capsule with a glass of water before eating in the morning.

## Important warnings

Fundic gland polyps warning: Long-term use (especially over one year) can cause fundic
gland polyps. These polyps are growths on the lining of your stomach. To help prevent
these polyps, use this drug for as short a time as possible. Polyps are more common with
lansoprazole taken daily for years.""",
    "tramadol.md": """# Tramadol

## When the Safe Alternative Is Not That Safe: Tramadol Prescribing in Children

The American Academy of Pediatrics (AAP) has released guidelines on the management of
nociceptive pain in children. Codeine and tramadol are the only two opioids classified as
weak opioids.""",
    "cyanocobalamin.md": """# Cyanocobalamin

## How should this medicine be used?

Cyanocobalamin injection will supply you with enough vitamin B12 only as long as you
receive injections regularly. If you stop receiving cyanocobalamin injections, your
anemia may return and your nerves may be damaged.""",
    "spironolactone.md": """# Spironolactone

## Take as directed

If you stop taking this drug suddenly, you may start retaining water. You may also have a
sudden increase in your blood pressure.""",
    "heparin.md": """# Heparin

## Stopping treatment with blood-thinning drug can be fatal

Unlike warfarin, which requires a slow reduction, heparin treatment can be started and
stopped quickly.""",
    "bumetanide.md": """# Bumetanide

## INGREDIENTS AND APPEARANCE

Color - WHITE (White to off white); Shape - ROUND; Score - 2 pieces; Size - 6mm; Imprint
Code - A16

## INGREDIENTS AND APPEARANCE

Color - WHITE (White to off white); Shape - OVAL; Score - 2 pieces; Size - 11mm; Imprint
Code - AC42""",
    "oxybutynin.md": """# Oxybutynin

## DOSAGE AND ADMINISTRATION

Adults
The usual dose is one 5-mg tablet two to three times a day. The maximum recommended dose
is one 5-mg tablet four times a day.

Pediatric patients over 5 years of age
The usual dose is one 5-mg tablet two times a day. The maximum recommended dose is one
5-mg tablet three times a day.""",
    "kidney_stones.md": """# Kidney Stones in Adults

## What causes Kidney Stones in Adults ?

Kidney stones can form when substances in the urine become highly concentrated.

People who are at increased risk of kidney stones are those with

""" "- hypercalciuria, a condition that runs in families - a family history of kidney "
    "stones - cystic kidney diseases - gout, a disorder that causes painful swelling of the "
    "joints",
    "azithromycin.md": """# Azithromycin

## What is ZITHROMAX?

ZITHROMAX is a macrolide antibiotic prescription medicine used in adults 18 years or older
to treat certain infections caused by certain germs called bacteria.

ZITHROMAX is also used in children to treat:

ear infections

infected throat or tonsils""",
    "memantine.md": """# Memantine

## INGREDIENTS AND APPEARANCE

Color - WHITE, Shape - ROUND, Score - no score, Size - 6mm, Imprint Code - M;103

## How should this medicine be used?

Memantine comes as a tablet, a solution (liquid), and an extended-release capsule to take
by mouth.""",
}.items()}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return indexed_pages(tmp_path_factory.mktemp("everyday"), PAGES, embedder)


def test_a_cannot_inside_a_definition_in_brackets_does_not_turn_a_yes_into_no(
        pages: Path, embedder) -> None:
    """"…in children and teenagers 10 to 17 years of age who have familial heterozygous
    hypercholesterolemia (an inherited condition in which cholesterol cannot be removed…)"
    says teenagers may take it: the answer opens "Yes.", never "No."."""
    answer = answer_of(pages, embedder, "Can teenagers take simvastatin?",
                       citing("teenagers", "Yes, teenagers can take simvastatin [n]."))
    assert answer.text.startswith("Yes.") and "10 to 17" in answer.text


def test_an_amount_said_in_words_answers_how_much(pages: Path, embedder) -> None:
    """"Two per day for men and one per day for women" states an amount: it is the answer,
    not held for want of a digit while the weight-loss line ("7 to 10 percent") is quoted."""
    answer = answer_of(pages, embedder, "How much alcohol is OK with high blood pressure?",
                       citing("alcohol", "Two per day for men and one per day for women [n]."))
    assert answer.text.startswith("Two per day for men")
    assert "percent" not in answer.text


def test_brand_names_the_page_marks_with_a_registered_sign_answer_a_brand_question(
        pages: Path, embedder) -> None:
    """The page marks its brands only with "®"; the model lists them without it. The list
    is the answer (it had been taken for "no brand named" and refused)."""
    answer = answer_of(pages, embedder, "What other names is hydrochlorothiazide sold under?",
                       citing("microzide", "Esidrix [n], Hydrodiuril [n], Microzide [n]."))
    assert not answer.refused and "Microzide" in answer.text
    other = answer_of(pages, embedder, "What other names is hydrochlorothiazide sold under?",
                      citing("microzide", "It is a water pill [n]."))
    assert "water pill" not in other.text  # a sentence naming no brand still is no answer


def test_a_study_of_many_drugs_gives_no_yes_for_the_one_asked_about(
        pages: Path, embedder) -> None:
    """On the lidocaine page, "two-thirds of the expired medications were stable" and
    "Each of them had their expiration dates extended" speak of a study's 122 drugs (the
    page then names a lidocaine product among those that failed): the model's "Yes, you can
    use lidocaine after it expires" gets no "Yes." from them."""
    answer = answer_of(pages, embedder, "Can I use lidocaine after it expires?",
                       citing("expired", "Yes, you can use lidocaine after it expires [n]."))
    assert not answer.text.lower().startswith("yes")


def test_colour_is_color(pages: Path, embedder) -> None:
    """A reader writing "colour" asks what a label's "Color - WHITE" row answers."""
    answer = answer_of(pages, embedder, "What colour are memantine tablets?",
                       citing("round", "The tablets are blue [n]."))
    assert "WHITE" in answer.text


def test_too_much_is_answered_by_the_overdose_lines_not_by_what_the_drug_is_for(
        pages: Path, embedder) -> None:
    """"What happens if someone takes too much simvastatin?" answered with what simvastatin
    is used for holds nothing: the overdose line is quoted instead."""
    answer = answer_of(pages, embedder, "What happens if someone takes too much simvastatin?",
                       citing("heart attack", "Simvastatin is used together with diet, "
                               "weight-loss, and exercise to reduce the risk of heart attack and "
                               "stroke [n]."))
    assert "heart attack" not in answer.text and "overdosage" in answer.text


def test_what_a_drug_looks_like_is_answered_by_its_colour_and_shape(
        pages: Path, embedder) -> None:
    """"Memantine tablets look like tablets" says nothing about the look: the label's
    colour and shape row is quoted."""
    answer = answer_of(pages, embedder, "What does memantine look like?",
                       citing("round", "Memantine tablets look like tablets [n]."))
    assert "ROUND" in answer.text and "look like tablets" not in answer.text


def test_a_label_page_that_names_its_drug_only_in_its_title_is_about_that_drug(
        pages: Path, embedder) -> None:
    """The bumetanide page is its title and two look rows: "bumetanide" is its drug (its
    most used rare word, "imprint", had become a drug, which made every page's look row
    about another drug: both questions were refused)."""
    answer = answer_of(pages, embedder, "What do bumetanide tablets look like?",
                       citing("a16", "Bumetanide tablets look like tablets [n]."))
    assert "WHITE" in answer.text and "look like tablets" not in answer.text
    other = answer_of(pages, embedder, "What does memantine look like?",
                      citing("m;103", "Memantine tablets look like tablets [n]."))
    assert "M;103" in other.text


def test_a_prohibition_answers_no_whatever_the_condition_the_question_adds(
        pages: Path, embedder) -> None:
    """"Do not stop taking amlodipine without talking to your doctor" does not speak of
    "once my blood pressure is normal", but it says no to stopping in any case: the
    model's "Yes, you can stop…" becomes "No." and that line (it had been refused)."""
    answer = answer_of(pages, embedder,
                       "Can I stop taking amlodipine once my blood pressure is normal?",
                       citing("do not stop", "Yes, you can stop taking amlodipine once your "
                               "blood pressure is normal [n]."))
    assert answer.text.startswith("No.") and "Do not stop taking amlodipine" in answer.text


def test_an_everyday_idiom_is_asked_in_the_words_of_the_label(pages: Path, embedder) -> None:
    """"Can I quit oxycodone cold turkey?" was refused ("They never mention 'turkey'"); it
    asks what "Do not abruptly discontinue oxycodone" answers."""
    answer = answer_of(pages, embedder, "Can I quit oxycodone cold turkey?",
                       citing("abruptly", "Yes, you can quit oxycodone cold turkey [n]."))
    assert not answer.refused and "abruptly discontinue" in answer.text


def test_a_negated_yes_or_no_question_is_answered_as_the_plain_one(
        pages: Path, embedder) -> None:
    """"Doesn't azithromycin treat ear infections in children?" was refused ("They never
    mention 'doesn'"), and "Can't I stop…" had no "No.": asked plainly, both are yes/no
    questions the pages answer."""
    answer = answer_of(pages, embedder, "Doesn't azithromycin treat ear infections in children?",
                       citing("ear infections", "Yes, ZITHROMAX is also used in children to "
                                                "treat ear infections [n]."))
    assert answer.text.startswith("Yes") and "ear infections" in answer.text
    answer = answer_of(pages, embedder,
                       "Can't I stop taking amlodipine once my blood pressure is normal?",
                       citing("do not stop", "Yes, you can stop taking amlodipine once your "
                                             "blood pressure is normal [n]."))
    assert answer.text.startswith("No.") and "Do not stop taking amlodipine" in answer.text


@pytest.mark.parametrize(("typed", "plain"), [
    ("Can't he just take it as a pill?", "Can he just take it as a pill?"),
    ("My dad has diabetes. Isn't insulin a shot?", "My dad has diabetes. Is insulin a shot?"),
    ("won't it hurt?", "will it hurt?"),
    # not a question's opener: unchanged
    ("Can't sleep. What helps?", "Can't sleep. What helps?"),
    ("I can't swallow pills, can I crush it?", "I can't swallow pills, can I crush it?"),
])
def test_only_a_negated_opener_of_a_question_is_asked_plainly(typed: str, plain: str) -> None:
    from qa.questions import in_plain_words

    assert in_plain_words(typed) == plain


def test_when_to_take_a_drug_is_answered_by_a_time_of_day_or_a_meal(
        pages: Path, embedder) -> None:
    """"Lansoprazole should be taken long-term" names no time: the label's "before eating
    in the morning" is quoted. The page names lansoprazole once beside its title and
    "polyps" four times: it is still the lansoprazole page, so its lines naming no drug
    are lansoprazole's."""
    answer = answer_of(pages, embedder, "When should lansoprazole be taken?",
                       citing("long-term", "Lansoprazole should be taken long-term [n]."))
    assert "in the morning" in answer.text and "should be taken long-term" not in answer.text


def test_asked_whether_it_is_ok_naming_the_people_asked_about_is_no_yes(
        pages: Path, embedder) -> None:
    """"Is tramadol OK for kids?": a line on pain guidelines for children says nothing of
    whether tramadol is fine for them: no "Yes." (the model's "Yes, tramadol is OK for
    kids" restates the question)."""
    answer = answer_of(pages, embedder, "Is tramadol OK for kids?",
                       citing("pediatrics", "Yes, tramadol is OK for kids [n]."))
    assert not answer.text.lower().startswith("yes")


def test_a_thing_named_by_a_code_keeps_other_drugs_pages_out(pages: Path, embedder) -> None:
    """"What happens if I stop B12 shots?" names no drug the documents know, but "B12" is a
    specific thing: the spironolactone page, which never names it, cannot answer."""
    answer = answer_of(pages, embedder, "What happens if I stop B12 shots?",
                       citing("retaining water", "You may start retaining water [n]."))
    assert "retaining water" not in answer.text


def test_a_readers_word_for_what_the_page_says_otherwise_is_no_missing_topic() -> None:
    """"bladder" for "urinary tract": "How long is cipro taken for a bladder infection?" is
    not refused for naming something never mentioned, while a word the page has no other
    word for still is."""
    lexicon = Lexicon.build({"c": "Ciprofloxacin treats urinary tract infections."}, {})
    question = "how long is ciprofloxacin taken for a bladder infection"
    assert focus_of(question, lexicon).missing == ()
    assert focus_of("can ciprofloxacin cause hiccups", lexicon).missing == ("hiccups",)


def test_a_lists_lead_in_is_answered_with_its_list(pages: Path, embedder) -> None:
    """MedQuAD's "People who are at increased risk of kidney stones are those with", then
    its items joined by " - " on one line: the model stops at the lead-in (as it did), and
    the lead-in is quoted with its items; it had been the whole answer, "…are those with
    [1].", or, removed as incomplete, another sentence quoted in its place."""
    answer = answer_of(pages, embedder, "Who is at risk of kidney stones?",
                       citing("those with", "People who are at increased risk of kidney stones "
                               "are those with [n]."))
    assert "are those with" in answer.text, answer.text
    assert "hypercalciuria" in answer.text and "a family history" in answer.text


def test_what_a_sentence_says_of_its_own_drug_is_not_said_of_the_one_it_is_unlike(
        pages: Path, embedder) -> None:
    """"Unlike warfarin, which requires a slow reduction, heparin treatment can be started
    and stopped quickly" says of warfarin only that it requires a slow reduction: the
    model's "Warfarin can be started and stopped quickly" (held by its words) is removed,
    while "Warfarin requires a slow reduction" holds."""
    wrong = answer_of(pages, embedder, "Does warfarin need to be stopped slowly?",
                      citing("unlike warfarin", "Yes, warfarin can be started and stopped "
                              "quickly [n]."))
    assert "Warfarin can be started" not in wrong.text, wrong.text
    right = answer_of(pages, embedder, "Does warfarin need to be stopped slowly?",
                      citing("unlike warfarin", "Yes, warfarin requires a slow reduction [n]."))
    assert "Warfarin requires a slow reduction [" in right.text, right.text


def test_a_lead_in_ending_in_a_colon_is_quoted_with_its_unmarked_items(
        pages: Path, embedder) -> None:
    """"ZITHROMAX is also used in children to treat:" then a line per item, without marks:
    asked whether a son can take it for an ear infection, the lead-in with its items is the
    best quote, and the model's "Yes, … used in children to treat ear infections" stands
    (the adults' line had been quoted in its place)."""
    answer = answer_of(pages, embedder, "Can my son take Zithromax for an ear infection?",
                       citing("in children", "Yes, ZITHROMAX is also used in children to treat "
                               "ear infections [n]."))
    assert "ear infections" in answer.text, answer.text
    assert "18 years or older" not in answer.text, answer.text


def test_highest_is_maximum(pages: Path, embedder) -> None:
    """The model's right "The highest dose of oxybutynin for adults is one 5-mg tablet four
    times a day" was removed for "highest", a word the label never uses (it says
    "maximum"), and the children's maximum quoted in its place."""
    answer = answer_of(pages, embedder, "What's the highest dose of oxybutynin for adults?",
                       citing("four times", "The highest dose of oxybutynin for adults is one "
                               "5-mg tablet four times a day [n]."))
    assert answer.text.startswith("The highest dose") and "four times" in answer.text


def test_everyday_words_for_the_pages_are_no_missing_topics() -> None:
    """"beers" for "alcohol", "puffer" for "inhaler", "pills" for "caplets": the questions
    were refused, naming them; and a yes/no question's everyday nouns count only in the
    question itself, not in what its asker tells around it ("I have trouble swallowing
    pills."), while the question's own still do."""
    lexicon = Lexicon.build({"a": "Acetaminophen caplets: swallow whole, do not crush. A "
                                  "small amount of alcohol is usually safe. Shake the inhaler "
                                  "well."}, {})
    for question in ("is it ok to have a couple of beers with acetaminophen",
                     "how do i use my acetaminophen puffer properly"):
        assert focus_of(question, lexicon).missing == (), question
    told = "Can I crush the acetaminophen caplets? I have trouble swallowing pills."
    query = "can i crush the acetaminophen caplets i have trouble swallowing pills"
    assert focus_of(query, lexicon, told).missing == ()
    assert focus_of("can acetaminophen cause trouble", lexicon).missing == ("trouble",)


def test_a_contrast_is_read_on_the_side_of_what_was_asked(pages: Path, embedder) -> None:
    """"Unlike warfarin, which requires a slow reduction, heparin treatment can be started
    and stopped quickly": asked whether heparin can be stopped quickly, its "unlike" is no
    "no" (it had "No."); asked whether heparin acts like warfarin on what the contrast
    says of warfarin, it still is."""
    answer = answer_of(pages, embedder, "Can heparin be stopped quickly?",
                       citing("unlike warfarin", "Yes, heparin can be stopped quickly [n]."))
    assert answer.text.startswith("Yes.") and "stopped quickly" in answer.text
    slow = answer_of(pages, embedder, "Does heparin require a slow reduction?",
                     citing("unlike warfarin", "Yes, heparin requires a slow reduction [n]."))
    assert not slow.text.startswith("Yes.")


@pytest.mark.parametrize(("question", "shaped"), [
    ("When should lansoprazole be taken?", True), ("when to take ibuprofen", True),
    ("What time of day is metformin usually taken?", True),
    ("When does metoprolol start working after taking it?", False),
    ("When should I stop taking metoprolol?", False)])
def test_only_when_to_take_a_drug_asks_for_a_time_of_day(question: str, shaped: bool) -> None:
    """"After about 2 hours" answers when metoprolol starts working: that question must not
    wait for a time of day or a meal."""
    from qa.finishing import asks_shaped

    assert asks_shaped(question) is shaped


@pytest.mark.parametrize("reply", [
    "No, you should not crush the caplets [n].",
    "I could not find the answer in the indexed documents.",
])
def test_a_line_forbidding_the_act_asked_about_says_no(pages: Path, embedder,
                                                        reply: str) -> None:
    """Dev q292, "Can I crush the acetaminophen caplets into my food? I have trouble
    swallowing pills.", was refused: "swallow whole – do not crush, chew, or dissolve" used
    too few of the question's words ("food") to say no, and the best-scoring line, "do not
    take more than 6 caplets in 24 hours", says neither: the line quoted is the one that
    says no."""
    answer = answer_of(pages, embedder, "Can I crush the acetaminophen caplets into my food? "
                       "I have trouble swallowing pills.",
                       citing("crush", reply) if "[n]" in reply else reply)
    assert "do not crush" in answer.text and "6 caplets" not in answer.text, answer.text
    # "No." when the model said it (a refusing model's answer is the documents' line alone)
    assert answer.text.startswith("No.") == reply.startswith("No"), answer.text
