"""The answer as it is streamed: each sentence verified, settled and sent once, never retracted.

``Composer`` takes the model's complete sentences one by one (``text.SentenceStream``),
verifies each (``verification.SentenceVerifier``) and returns what may be shown now:

* the first sentence settles a yes/no opener (kept only when the documents agree, see
  ``finishing``); if it claims the opposite of the documents, only restates the question,
  or is the model's refusal, the best excerpt is quoted instead and generation can stop;
* a yes/no question's sentences wait until one speaks to what it asks (uses one of its
  topic words, ``finishing.addresses``, or is close to it in meaning); when none does, the
  answer is about something else and is not sent;
* a list question whose evidence holds a whole list waits for the end, then gets the list
  quoted when the model's answer has fewer items;
* a kept sentence pointing back ("These side effects…") right after a removed one is
  quoted from its excerpt with the sentence it points to, and one copying an excerpt
  sentence with a part left out is replaced by that sentence, quoted (``_grounded``);
* at the end, when nothing held, the best excerpt is quoted, or the question refused;
* a one-sentence answer gets the best excerpt beside it when that comes from an excerpt the
  answer did not cite and says something the answer does not (see ``_complemented``).

What is sent is what the final ``Answer`` says: the answer text is the sent sentences.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from qa.finishing import (
    Quote,
    addresses,
    asks_for_list,
    documents_polarity,
    list_items,
    misses_amount,
    misses_brand,
    polarity_of,
    quoted_answer,
    restated,
    split_opener,
    with_list,
    without_foreign_links,
)
from qa.scope import Relevance, scored_question
from qa.text import MARKER, POINTS_BACK, content_words
from qa.types import Citation, SentenceCheck, Verdict
from qa.verification import SentenceVerifier, Verified, looks_like_refusal, shown

# Share of a complementing quote's content words the answer must not say already. On the
# dev split (124 questions, model replies reused): without it, paraphrases of the answer
# were added beside it ("Common side effects of memantine include dizziness, headache…").
COMPLEMENT_NOVELTY = 0.5


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
    sent: list[str] = field(default_factory=list)
    stopped: bool = False  # the answer is complete: generation may stop
    _first: bool = True
    _opener: str = ""
    _pending: list[str] = field(default_factory=list)
    _quote: tuple[Citation, SentenceCheck] | None = None
    _whole: Quote | None = None
    _wholes: list[str] = field(default_factory=list)  # quoted for clipped copies
    best: Quote | None = field(init=False)  # ranked[0], or the whole list it is an item of
    # Whether a kept sentence uses what a yes/no question asks about; until one does, the
    # answer's sentences wait (see ``finishing.addresses``). Other questions: always.
    _addressed: bool = field(init=False)

    def __post_init__(self) -> None:
        self._addressed = not self.relevance.focus.polar
        self.best = self.ranked[0] if self.ranked else None
        whole = with_list(self.best) if self.best is not None else None
        if whole is not None and self.quotable and asks_for_list(self.question) \
                and list_items(whole) > 1:
            self._whole = whole  # wait: the list may come back cut short

    def feed(self, sentence: str) -> list[str]:
        """Texts to send now for one more complete sentence of the model's."""
        if self.stopped:
            return []
        if not self._first:
            check = self.verifier.add(sentence)
            if check is not None and check.verdict is Verdict.REPEATED:
                self.stopped = True  # a model repeating itself has nothing more to say
            return self._shown(check)
        self._first = False
        if looks_like_refusal(sentence, self.refusal):
            self.stopped = True
            return self._quote_best()
        if misses_brand(self.question, sentence, self.relevance):
            self.stopped = True  # asked for a brand, told something else: a quote or nothing
            return self._quote_best()
        said, sentence = split_opener(sentence)
        polar = self.relevance.focus.polar
        documented = documents_polarity(self.question, self.ranked, self.relevance) \
            if polar else None
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
        if polar and said is not None and documented is not None \
                and documented in (said, claimed):
            # the documents' answer, when the model's opener or its sentence says it ("Yes,
            # dantrolene can cause liver damage" to "Do all patients…?" says no)
            self._opener = f"{documented.capitalize()}. "
        check = self.verifier.add(sentence) if sentence.strip() else None
        if polar and self.quotable and self.relevance.echo(sentence):
            self.stopped = True  # "Yes, X does Y": the excerpt says it better
            return self._quote_best()
        if self.quotable and misses_amount(self.question, sentence):
            # "How long does the vaccine protect you?" answered "It is designed to protect
            # older adults…": the best quote states an amount (``quotes``), the model not.
            self.stopped = True
            return self._quote_best()
        return self._shown(check)

    def _shown(self, check: SentenceCheck | None) -> list[str]:
        """A verified sentence to send; "Yes." and the like wait for a sentence that holds
        (an answer that ends up refused must not have sent them)."""
        if check is None or not shown(check) or self._said_whole(check):
            return []
        text = without_foreign_links(self._grounded(check), self.links)
        if not self._addressed and check.kept:
            self._addressed = self._answers(text)
        if not check.kept or not self._addressed:
            self._pending.append(text)
            return []
        texts = [*self._pending, text]
        self._pending = []
        if not self.sent:
            texts[0] = self._opener + texts[0]
        self.sent += texts
        return [] if self._whole is not None else texts

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
            return text if item.start <= citation.start < quote.start else check.text
        if self._addressed and self.relevance.clipped(check.text, quote.text):
            self._wholes.append(quote.text)
            return quoted_answer(quote, item.n, also=also)[0]
        return check.text

    def _said_whole(self, check: SentenceCheck) -> bool:
        """A model's sentence that an excerpt sentence quoted for a clipped copy says
        already: "Muscle rigidity [2]. High fever [2]." after "…may experience muscle
        rigidity, … a high fever…"."""
        said = content_words(MARKER.sub(" ", check.text))
        return any(said <= content_words(whole) for whole in self._wholes)

    def _answers(self, text: str) -> bool:
        """The sentence speaks to what the yes/no question asks: it uses one of its topic
        words, or says it in other words (cosine at least ADDRESS_COSINE, drug names out,
        conditions kept: "Gout can be controlled with proper treatment" for "Can gout be
        cured?")."""
        if addresses(self.question, text, self.relevance):
            return True
        asked, hide = self._asked
        said = self.verifier.embedder.embed([hide(MARKER.sub(" ", text))])[0]
        return float(asked @ said) >= ADDRESS_COSINE

    @functools.cached_property
    def _asked(self) -> tuple[np.ndarray, Callable[[str], str]]:
        """The question's vector for ``_answers`` (embedded once, if ever needed), and what
        is taken out of the texts compared with it: drug names, not conditions."""
        lexicon = self.relevance.lexicon
        hide = lexicon.hider(self.question, keep=lexicon.conditions)
        return self.verifier.embedder.embed([scored_question(self.question, hide)])[0], hide

    def _quote_best(self) -> list[str]:
        """The best excerpt, quoted and cited, when it is good enough."""
        if self.best is None or not self.quotable:
            return []
        text, citation, check = quoted_answer(with_list(self.best), self.best.evidence.n)
        self._quote = (citation, check)
        self.sent = [self._opener + text]
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
