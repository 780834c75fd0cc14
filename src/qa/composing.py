"""The answer as it is streamed: each sentence verified, settled and sent once, never retracted.

``Composer`` takes the model's complete sentences one by one (``text.SentenceStream``),
verifies each (``verification.SentenceVerifier``) and returns what may be shown now:

* the first sentence settles a yes/no opener (kept only when the documents agree, see
  ``finishing``); if it claims the opposite of the documents, only restates the question,
  or is the model's refusal, the best excerpt is quoted instead and generation can stop;
* a yes/no question's sentences wait until one speaks to what it asks (uses one of its
  topic words, ``finishing.addresses``, or is close to it in meaning), and an amount
  question's until one states an amount; when none does, the answer is about something
  else and is not sent;
* a list question whose evidence holds a whole list waits for the end, then gets the list
  quoted when the model's answer has fewer items;
* a kept sentence pointing back ("These side effects…") right after a removed one is
  quoted from its excerpt with the sentence it points to, and one copying an excerpt
  sentence with a part left out is replaced by that sentence, quoted (``_grounded``);
* a removed sentence copying an excerpt sentence is replaced by that sentence, quoted
  (``_copied``);
* at the end, when nothing held, the best excerpt is quoted (or, nearly as good, the one
  the model cited or copied: ``_vouched``), or the question refused;
* a one-sentence answer gets the best excerpt beside it when that comes from an excerpt the
  answer did not cite and says something the answer does not (see ``_complemented``).

What is sent is what the final ``Answer`` says: the answer text is the sent sentences.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from qa.finishing import (
    POLARITY_MARGIN,
    Quote,
    addresses,
    asks_for_list,
    asks_shaped,
    below_ages,
    documents_polarity,
    list_items,
    misses_brand,
    misses_limit,
    misses_shape,
    names_asked_same,
    pins_limit,
    polarity_of,
    quoted_answer,
    restated,
    split_opener,
    with_list,
    without_foreign_links,
)
from qa.scope import Relevance, copies, scored_question
from qa.text import MARKER, POINTS_BACK, content_words, stems
from qa.types import Citation, SentenceCheck, Verdict
from qa.verification import (
    SentenceVerifier,
    Verified,
    cited_in,
    grants_use,
    looks_like_refusal,
    shown,
)

# Share of a complementing quote's content words the answer must not say already. On the
# dev split (124 questions, model replies reused): without it, paraphrases of the answer
# were added beside it ("Common side effects of memantine include dizziness, headache…").
COMPLEMENT_NOVELTY = 0.5


# Words a removed sentence adds to the question that must all be in an excerpt sentence for
# it to point there (``Composer._adds``): one alone ("effects") is in many sentences.
POINTED_WORDS = 2

# A yes/no answer's sentence that uses none of the question's topic words still speaks to it
# at this cosine (drug names out, conditions in). Pairs read on dev and on MedQuAD pages:
# 0.74 "Can gout be cured?" / "Gout can be controlled with proper treatment…", 0.79 "can
# you take ultram with ibuprofen?" / "Ultram can be taken with ibuprofen" speak to it; 0.51
# "Does ketamine cause Alzheimer disease?" / "…anti-inflammatory effects in the brain",
# 0.33 "…last for months?" / "…within hours or days", 0.21 "Is it safe to take antacids
# during pregnancy?" / "Antacids can cause constipation" do not.
ADDRESS_COSINE = 0.6


@dataclass
class Composer:
    """One answer in the making; see the module docstring."""

    question: str
    verifier: SentenceVerifier
    relevance: Relevance
    ranked: Sequence[Quote]  # every excerpt sentence about the asked drug, best first
    quotable: bool  # the best excerpt is good enough to be quoted as the answer
    refusal: str
    links: frozenset[str]
    # An excerpt sentence scoring this is quoted in place of the model's sentences only when
    # the model pointed at it: cited its excerpt, or copied it (see ``_vouched``).
    vouch_score: float = float("inf")
    sent: list[str] = field(default_factory=list)
    stopped: bool = False  # the answer is complete: generation may stop
    _first: bool = True
    _opener: str = ""
    _quote_opener: str = ""  # the documents' answer, for a quote in place of a contradicted one
    _pending: list[str] = field(default_factory=list)
    _quote: tuple[Citation, SentenceCheck] | None = None
    _whole: Quote | None = None
    _wholes: list[str] = field(default_factory=list)  # quoted for clipped copies
    _cited: set[int] = field(default_factory=set)  # excerpts the model's sentences cited
    _said: list[str] = field(default_factory=list)  # the model's sentences, as written
    _added: list[tuple[Citation, SentenceCheck]] = field(default_factory=list)  # quoted
    best: Quote | None = field(init=False)  # ranked[0], or the whole list it is an item of
    # Whether a kept sentence speaks to what is asked; until one does, the answer's
    # sentences wait (see ``_answers``). Questions neither yes/no nor asking an amount:
    # always.
    _addressed: bool = field(init=False)

    def __post_init__(self) -> None:
        self._addressed = not self.relevance.focus.polar and not self._asks_shaped
        self.best = self.ranked[0] if self.ranked else None
        whole = with_list(self.best) if self.best is not None else None
        if whole is not None and self.quotable and asks_for_list(self.question) \
                and list_items(whole) > 1:
            self._whole = whole  # wait: the list may come back cut short

    def feed(self, sentence: str) -> list[str]:
        """Texts to send now for one more complete sentence of the model's."""
        if self.stopped:
            return []
        self._cited.update(cited_in(sentence, range(1, len(self.verifier.evidence) + 1)))
        self._said.append(sentence)
        if not self._first:
            check = self.verifier.add(sentence)
            if check is not None and check.verdict is Verdict.REPEATED:
                self.stopped = True  # a model repeating itself has nothing more to say
            return self._shown(check)
        self._first = False
        if looks_like_refusal(sentence, self.refusal):
            self.stopped = True
            return self._quote_best()
        if misses_brand(self.question, sentence, self.relevance, self.verifier.evidence):
            self.stopped = True  # asked for a brand, told something else: a quote or nothing
            return self._quote_best()
        said, sentence = split_opener(sentence)
        polar = self.relevance.focus.polar
        documented = self._documented
        # What the sentence's own words claim, whatever its opener ("Yes, patients should
        # avoid driving" says no); an opener alone is settled below.
        claimed = polarity_of(self.question, sentence, self.relevance) if polar else None
        if claimed and claimed != documented:
            # "It is safe to drive after taking X" restates the question as a yes: unless
            # the best excerpt says so too, the claim is the model's, not the documents'.
            # When the excerpts say the opposite, the quote says so first.
            self.stopped = True
            if documented is not None:
                self._opener = f"{documented.capitalize()}. "
            return self._quote_best()
        if polar and said is not None and documented is not None:
            self._settle_opener(documented, said, claimed)
        check = self.verifier.add(sentence) if sentence.strip() else None
        if polar and self.relevance.echo(sentence) and self._may_quote():
            self.stopped = True  # "Yes, X does Y": the excerpt says it better
            return self._quote_best()
        if misses_shape(self.question, sentence) and self._may_quote():
            # "How long does the vaccine protect you?" answered "It is designed to protect
            # older adults…": the best quote states an amount (``quotes``), the model not.
            self.stopped = True
            return self._quote_best()
        if misses_limit(self.question, sentence, self.verifier.evidence) \
                and self.ranked and self.vouch_score < math.inf:
            self.stopped = True
            return self._quote_limit()
        return self._shown(check)

    def _settle_opener(self, documented: str, said: str, claimed: str | None) -> None:
        """The documents' answer opens the answer when the model's opener or its sentence
        says it ("Yes, dantrolene can cause liver damage" to "Do all patients…?" says no);
        an opener they contradict leaves it to a quote, should the sentence not hold ("Yes,
        you can just quit taking it" to a question they answer "…should not be stopped
        without consulting…", round 15)."""
        if documented in (said, claimed):
            self._opener = f"{documented.capitalize()}. "
        else:
            self._quote_opener = f"{documented.capitalize()}. "

    @functools.cached_property
    def _documented(self) -> str | None:
        """What the best excerpts answer a yes/no question (``documents_polarity``); None
        for other questions. Worked out once: the first sentence and the quote both ask."""
        if not self.relevance.focus.polar:
            return None
        return documents_polarity(self.question, self.ranked, self.relevance)

    def _shown(self, check: SentenceCheck | None) -> list[str]:
        """A verified sentence to send; "Yes." and the like wait for a sentence that holds
        (an answer that ends up refused must not have sent them)."""
        if check is None or self._said_whole(check) or self._too_young(check):
            return []
        if shown(check):
            text = without_foreign_links(self._grounded(check), self.links)
            kept = bool(check.kept)
        elif (copied := self._copied(check)) is not None:
            text, kept = copied, True
        else:
            return []
        if not self._addressed and kept:
            self._addressed = self._answers(text)
        if not kept or not self._addressed:
            self._pending.append(text)
            return []
        texts = [*self._pending, text]
        self._pending = []
        if not self.sent:
            texts[0] = self._opener + texts[0]
        self.sent += texts
        return [] if self._whole is not None else texts

    def _too_young(self, check: SentenceCheck) -> bool:
        """The sentence lets the person asked about use the medicine, and every excerpt
        holding it is for people older than the age the question gives (``below_ages``):
        round 16's "For kids, your son can use your clotrimazole betamethasone dipropionate
        cream" for a 12-year-old, held by "…in people 17 years of age and older"."""
        return bool(check.kept) and grants_use(check.text) and all(
            below_ages(self.question, self.verifier.evidence[n - 1].text) for n in check.kept)

    def _grounded(self, check: SentenceCheck) -> str:
        """The excerpt's own sentence, quoted, instead of a kept sentence that says less:

        * one that copies an excerpt sentence with a part left out ("Some experts worry
          about the potential for abuse and addiction", of "…addiction, as ketamine is a
          dissociative anesthetic with hallucinogenic effects"): the part left out is often
          what was asked (see ``clipped``);
        * one that points back ("These side effects can impact a patient's daily
          activities") right after the model's sentence it points to was removed, which
          says nothing alone (dev q163, "What happens if someone takes too much
          dantrolene?"): quoted with the sentence(s) before it that say what "these" are,
          when those are in the same excerpt (its citation covers them)."""
        if not check.kept:
            return check.text
        item = self.verifier.evidence[check.kept[0] - 1]
        quote = restated(check.text, item)
        if quote is None:
            return check.text
        also = bool(self.sent or self._pending)
        checks = self.verifier.checks
        if len(checks) >= 2 and not shown(checks[-2]) and POINTS_BACK.match(check.text):
            text, citation, _ = quoted_answer(quote, item.n, also=also)
            if any(whole in citation.text for whole in self._wholes):
                return check.text  # what it points to was quoted for the removed sentence
            return text if item.start <= citation.start < quote.start else check.text
        if self._addressed and self.relevance.clipped(check.text, quote.text):
            self._wholes.append(quote.text)
            return quoted_answer(quote, item.n, also=also)[0]
        return check.text

    def _copied(self, check: SentenceCheck) -> str | None:
        """The excerpt sentence a removed sentence copies, quoted: "The recommended starting
        dose for nerve pain following shingles is 300 mg on Day 1, 600 mg/day on Day 2…" was
        removed (the gabapentin page never says "shingles"), but its numbers are the page's
        "In adults with postherpetic neuralgia, gabapentin … may be initiated as a single
        300 mg dose on Day 1…". Only a sentence left without support (not one about another
        drug, turned round or contradicted), and only a sentence that is itself a good enough
        answer (``quotes``, ``vouch_score``; the removed sentence spoke to the question, the
        quote need not use its words): "…for shingles is 1 gram twice daily for 10 days",
        copying the genital herpes dose, has none (``Relevance.elsewhere``). Asked for the
        most one may take, a sentence whose numbers are all in a quote stating a limit
        (``pins_limit``) points to it whatever its score; never with personal dosing, when
        nothing is vouched for."""
        if check.verdict is not Verdict.UNSUPPORTED:
            return None
        near = [q for q in self.ranked if q.score >= self.vouch_score]
        added = self._adds(check.text)
        quote = next((q for q in near if copies(check.text, q.text)), None) \
            or next((q for q in near if len(added) >= POINTED_WORDS
                     and added <= set(stems(content_words(q.text)))), None) \
            or next((q for q in self.ranked if self.vouch_score < math.inf
                     and pins_limit(self.question, check.text, q.text)), None)
        if quote is None or quote.text in self._wholes:
            return None
        text, citation, quoted = quoted_answer(quote, quote.evidence.n,
                                               also=bool(self.sent or self._pending))
        self._added.append((citation, quoted))
        self._wholes.append(quote.text)
        return text

    def _adds(self, sentence: str) -> set[str]:
        """The stems a model's sentence adds to the question's; an excerpt sentence holding
        them all, two at least, is the one it points to: "The prefrontal cortex is mentioned
        as benefiting from ketamine-driven synaptic plasticity…" (unsupported: the
        question's words are not the excerpt's) points to "…in brain regions associated with
        emotional regulation, such as the prefrontal cortex." The model found the answer;
        its wording did not hold. Worked out once per sentence, not per excerpt sentence."""
        return set(stems(content_words(MARKER.sub(" ", sentence)))) - self._asked_stems

    @functools.cached_property
    def _asked_stems(self) -> set[str]:
        return set(stems(content_words(self.question)))

    def _said_whole(self, check: SentenceCheck) -> bool:
        """A model's sentence that an excerpt sentence quoted for a clipped copy says
        already: "Muscle rigidity [2]. High fever [2]." after "…may experience muscle
        rigidity, … a high fever…"."""
        said = content_words(MARKER.sub(" ", check.text))
        return any(said <= content_words(whole) for whole in self._wholes)

    @functools.cached_property
    def _asks_shaped(self) -> bool:
        """The question asks for an amount ("How much…", "How long…") or another shape
        (``asks_shaped``), outside personal dosing (whose answer states no amount on
        purpose): a sentence stating none is no answer.
        "How much valacyclovir is taken for shingles?" had been answered "Valacyclovir is
        used in adults to treat shingles" (the page gives no shingles dose)."""
        return self.verifier.allow_doses and asks_shaped(self.question)

    def _answers(self, text: str) -> bool:
        """The sentence speaks to what is asked (``_answering``)."""
        return self._answering([text])[0]

    def _answering(self, texts: Sequence[str]) -> list[bool]:
        """Whether each sentence speaks to what is asked: it states an amount when one is
        asked; for a yes/no question, it uses one of its topic words, or says it in other
        words (cosine at least ADDRESS_COSINE, drug names out, conditions kept: "Gout can be
        controlled with proper treatment" for "Can gout be cured?"). The sentences left to
        compare in meaning are embedded together."""
        polar = self.relevance.focus.polar
        verdicts: list[bool | None] = [
            False if self._asks_shaped and misses_shape(self.question, text)
            else True if not polar or addresses(self.question, text, self.relevance)
            else None for text in texts]
        left = [i for i, v in enumerate(verdicts) if v is None]
        if left:
            asked, hide = self._asked
            said = self.verifier.embedder.embed([hide(MARKER.sub(" ", texts[i])) for i in left])
            for i, cosine in zip(left, said @ asked, strict=True):
                verdicts[i] = float(cosine) >= ADDRESS_COSINE
        return [bool(v) for v in verdicts]

    @functools.cached_property
    def _asked(self) -> tuple[np.ndarray, Callable[[str], str]]:
        """The question's vector for ``_answers`` (embedded once, if ever needed), and what
        is taken out of the texts compared with it: drug names, not conditions."""
        lexicon = self.relevance.lexicon
        hide = lexicon.hider(self.question, keep=lexicon.conditions)
        return self.verifier.embedder.embed([scored_question(self.question, hide)])[0], hide

    def _vouched(self) -> Quote | None:
        """The excerpt sentence the model pointed at, when it scores ``vouch_score``: one
        its sentences copy, else the best one when they cited its excerpt. The model picked
        the passage that answers, though its own sentence, often a restatement ("Yes,
        children can take valacyclovir [1].") did not hold. A model that cited nothing, or
        refused, vouches for nothing."""
        near = self._near
        copied = next((q for q in near if any(copies(s, q.text) for s in self._said)), None)
        if copied is not None:
            return copied
        return near[0] if near and near[0] is self.ranked[0] \
            and near[0].evidence.n in self._cited else None

    @functools.cached_property
    def _near(self) -> list[Quote]:
        """The excerpt sentences good enough to quote when the model points at them: they
        score ``vouch_score`` and speak to the question (``_answers``; "…ketamine has
        anti-inflammatory effects in the brain", cited by the model, does not answer "Does
        ketamine cause Alzheimer disease?")."""
        near = [q for q in self.ranked if q.score >= self.vouch_score]
        return [q for q, ok in zip(near, self._answering([q.text for q in near]), strict=True)
                if ok]

    def _may_quote(self) -> bool:
        """The best excerpt may stand for the answer: it scores well enough, or the model
        pointed at one that nearly does (``_vouched``)."""
        return self.best is not None and (self.quotable or self._vouched() is not None)

    def _quote_limit(self) -> list[str]:
        """Asked for the most one may take, the model's figure is one the page gives for
        something else (``misses_limit``): the best quote stating a limit, whatever it
        scores (only such quotes are ranked for the question: "…the maximal recommended
        dosage is 800 mg daily" for allopurinol's "400 to 600 mg/day", its usual range for
        severe gout). Not without such a quote ("the daily dosage may vary from 1 to 10
        mg/day" stays the answer for Ativan), nor under personal dosing, when nothing is
        vouched for."""
        self.quotable = True
        return self._quote_best()

    def _quote_best(self) -> list[str]:
        """The best excerpt, quoted and cited, when it is good enough, else the one the
        model pointed at (``_vouched``; asked "Can the effects of ketamine last for
        months?", the model's copy of "…ketamine can provide relief within hours or days"
        is no better pick than the best excerpt)."""
        pick = self.best if self.quotable else self._vouched()
        if pick is None:
            return []
        way = self._documented if pick is self.ranked[0] else None
        if way is not None:
            # the excerpt sentence that says no ("swallow whole – do not crush…"), not a
            # better-scoring one that says neither ("do not take more than 6 caplets in 24
            # hours" to "Can I crush the caplets?"), and after "No." above all
            pick = next((q for q in self.ranked
                         if q.score >= pick.score - POLARITY_MARGIN
                         and polarity_of(self.question, q.text, self.relevance) == way), pick)
        self.best = pick
        text, citation, check = quoted_answer(with_list(self.best), self.best.evidence.n)
        self._quote = (citation, check)
        opener = self._opener or (self._quote_opener if way is not None else "")
        if way is not None and not opener and names_asked_same(self.question, self.relevance):
            # whether names are one drug, the names' pairing decides, not the model's words
            opener = f"{way.capitalize()}. "
        self.sent = [opener + text]
        return list(self.sent)

    def finish(self) -> tuple[Verified, list[str]]:
        """The final verified answer, and the texts still to send (held or fallback)."""
        if self._quote is not None:
            return self._quoted(), []
        verified = self.verifier.result()
        if self._whole is not None:
            if list_items(self._whole) > len(self.sent):
                self.best = self._whole
                return self._replaced(verified)
            return self._joined(verified), list(self.sent)
        verified = self._with_added(verified)
        if not verified.citations:
            return self._replaced(verified)
        if not self._addressed:
            # nothing the model said touches what was asked (and nothing was sent): the
            # best excerpt, or a refusal
            return self._replaced(Verified("", (), verified.checks))
        return self._complemented(verified)

    def _complemented(self, verified: Verified) -> tuple[Verified, list[str]]:
        """A small model often answers in one sentence that is true but says little ("Is
        memantine free of side effects?" -> "Memantine is generally well-tolerated [3].")
        while the excerpt that best answers the question is another one ("…side effects can
        occur, including dizziness, headache, and constipation"). That excerpt's sentence
        is added, quoted, when the answer is one sentence, did not cite that excerpt, and
        less than half of the quote's content words are in it already (a paraphrase adds
        nothing), and it names no drug beyond those asked about."""
        best = self.best
        if best is None or not self.quotable or len(self.sent) != 1 \
                or best.evidence.n in {c.n for c in verified.citations} \
                or self.relevance.names_another(best.text):
            return self._joined(verified), []
        quoted = content_words(best.text)
        if len(quoted - content_words(self.sent[0])) < COMPLEMENT_NOVELTY * len(quoted):
            return self._joined(verified), []
        text, citation, check = quoted_answer(best, best.evidence.n, also=True)
        self.sent.append(text)
        return (Verified(" ".join(self.sent), (*verified.citations, citation),
                         (*verified.checks, check)), [text])

    def _with_added(self, verified: Verified) -> Verified:
        """The verifier's answer with the excerpt sentences quoted for removed copies."""
        if not self._added:
            return verified
        citations = {c.n: c for c in verified.citations}
        for citation, _ in self._added:
            citations.setdefault(citation.n, citation)
        return Verified(verified.text, tuple(citations[n] for n in sorted(citations)),
                        (*verified.checks, *(check for _, check in self._added)))

    def _replaced(self, verified: Verified) -> tuple[Verified, list[str]]:
        texts = self._quote_best()
        if not texts:
            return Verified("", (), verified.checks), []
        return self._quoted(), texts

    def _quoted(self) -> Verified:
        assert self._quote is not None
        citation, check = self._quote
        return Verified(" ".join(self.sent), (citation,), (*self.verifier.checks, check))

    def _joined(self, verified: Verified) -> Verified:
        return Verified(" ".join(self.sent), verified.citations, verified.checks)
