"""``Assistant``: one question through the stages, in order, to an ``Answer``.

1. triage (``triage.classify``): emergencies and self-harm get fixed guidance at once;
2. instructions inside the question are dropped (``injection.strip_injections``) and
   requests to produce a drug declined (``triage.requests_manufacture``);
3. normalisation, once: a claim put forward to be checked asked as the yes/no question it
   is (``questions.as_yes_no``), spelling and aliases from the corpus
   (``Retriever.rewrite``);
4. scope gate (``scope.focus_of``): the drugs asked about; a question naming something
   specific the documents never mention is refused;
5. retrieval and reranking (``Retriever.search``), with its relevance floor; a question
   comparing drugs is split into one question per drug (``_parts``), each taken through
   steps 5-9 on its own and answered after the drug's name;
6. evidence (``evidence.select_evidence``): the sentences about the asked drug the model
   is shown;
7. generation (``Generator.generate``);
8. verification (``verification.verify_answer``): every sentence checked and cited;
   sentences about another drug or only restating the question dropped;
9. finishing (``finishing``): a yes/no opener kept only if the documents agree, an
   excerpt quoted when the model's text did not hold, foreign links removed;
10. composition (``Answer``): verified text, triage guidance and disclaimer kept apart.

``Assistant`` is the Python API and the one code path shared by the CLI, the UI and the
evaluation, so what the eval measures is what users get.
"""

from __future__ import annotations

import logging
import time
from collections import abc
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from qa.composing import Composer
from qa.config import Settings
from qa.conversation import Turn, asked_alone, standalone_questions
from qa.embeddings import Embedder, load_embedder
from qa.errors import QAError
from qa.evidence import select_evidence
from qa.finishing import (
    documents_polarity,
    links_in,
    names_asked_same,
    pairs_names,
    quotes,
    with_list,
)
from qa.index import Index, open_index
from qa.injection import strip_injections
from qa.llm import ChatPrompt, Excerpt, Generator, load_generator
from qa.prompts import PromptSet, load_prompts
from qa.questions import as_yes_no, checked_question, in_plain_words
from qa.retrieval import Retrieval, Retriever
from qa.scope import (
    ROUTE,
    Lexicon,
    Relevance,
    brand_like,
    focus_of,
    route_crowded,
    setting_of,
)
from qa.text import SentenceStream, renumbered
from qa.triage import MeaningTriage, Triage, requests_manufacture
from qa.types import (
    Answer,
    AnswerStatus,
    Citation,
    EventKind,
    Evidence,
    Passage,
    SentenceCheck,
    StreamEvent,
    Timings,
    TriageKind,
)
from qa.verification import DOSE, SentenceVerifier, Verified, citation_for

log = logging.getLogger(__name__)
URGENT = (TriageKind.EMERGENCY, TriageKind.SELF_HARM)


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


@dataclass
class _Times:
    """When the first token and the first verified sentence came."""

    started: float
    retrieve_ms: float
    first_token_ms: float | None = None
    first_sentence_ms: float | None = None

    def token(self) -> None:
        self.first_token_ms = self.first_token_ms or _ms(self.started)

    def sentence(self) -> None:
        self.first_sentence_ms = self.first_sentence_ms or _ms(self.started)

    def timings(self) -> Timings:
        return Timings(self.retrieve_ms, self.first_token_ms, _ms(self.started),
                       self.first_sentence_ms)


@dataclass(frozen=True)
class _Seen:
    """What a question met on the way; kept on refusals too, so the eval and the UI can
    show why it was refused."""

    passages: tuple[Passage, ...] = ()
    raw_answer: str = ""
    checks: tuple[SentenceCheck, ...] = ()
    excerpts: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class _Part:
    """One generation's question, what is relevant to it and what was found for it."""

    asked: str
    relevance: Relevance
    found: Retrieval
    label: str = ""  # "Dantrolene: " before a compared drug's part of the answer
    aspect: str | None = None  # the question without its setting (``scope.setting_of``)


def _union(rankings: Iterator[tuple[Passage, ...]]) -> tuple[Passage, ...]:
    """Passages of several searches in order, each chunk once."""
    seen: dict[str, Passage] = {}
    for ranking in rankings:
        for passage in ranking:
            seen.setdefault(passage.chunk.chunk_id, passage)
    return tuple(seen.values())


def _shifted(verified: Verified, offset: int) -> Verified:
    """A part's verified answer with its excerpts numbered after the parts before it."""
    if not offset:
        return verified
    return Verified(
        renumbered(verified.text, offset),
        tuple(replace(c, n=c.n + offset) for c in verified.citations),
        tuple(replace(c, text=renumbered(c.text, offset),
                      cited=tuple(n + offset for n in c.cited),
                      kept=tuple(n + offset for n in c.kept)) for c in verified.checks))


def _merged(results: list[Verified]) -> Verified:
    """The parts' answers one after another (a part that found nothing adds nothing)."""
    held = [v for v in results if v.citations]
    return Verified(" ".join(v.text for v in held),
                    tuple(c for v in held for c in v.citations),
                    tuple(c for v in results for c in v.checks))


def never_mentioned(missing: Sequence[str]) -> str:
    """What a refusal says of the words the documents never use; a word shaped like a
    brand's name ("prilosec", "actemra") may be one the pages give only as its generic
    name, which only the asker's pack can tell (no brand table from outside the documents
    is used): so say how to ask again. Only a word missing alone: two are a condition's
    name more often ("rheumatoid", "arthritis")."""
    said = f"They never mention {', '.join(map(repr, missing))}."
    if len(missing) == 1 and brand_like(missing[0]):  # not 'rheumatoid' of "…arthritis"
        said += (f" If {missing[0]!r} is a brand name, ask again with the generic name "
                 "printed on the pack or label.")
    return said


@dataclass
class Assistant:
    """Question answering over one index. Build with ``Assistant.load()``; reuse for many
    questions (the models load once)."""

    settings: Settings
    index: Index
    embedder: Embedder
    generator: Generator
    prompts: PromptSet
    retriever: Retriever
    lexicon: Lexicon = field(init=False)
    triage: MeaningTriage = field(init=False)

    def __post_init__(self) -> None:
        self._refusal = self.prompts.text("refusal.txt")
        self._system = self.prompts.render("system.txt", refusal=self._refusal)
        documents = self.index.documents.values()
        self.lexicon = Lexicon.build({d.doc_id: d.text for d in documents},
                                     self.retriever.aliases, {d.doc_id: d.title for d in documents})
        self.triage = MeaningTriage(self.embedder)
        self._links = links_in([d.text for d in documents if not d.flags])
        escaped = self._refusal.replace("\\", "\\\\").replace('"', '\\"')
        self._grammar = (self.prompts.render("cited_answer.gbnf", refusal=escaped)
                         if self.settings.answer.constrained else None)

    @classmethod
    def load(
        cls,
        index_dir: str | Path | None = None,
        settings: Settings | None = None,
        *,
        generator: Generator | None = None,
        embedder: Embedder | None = None,
    ) -> Assistant:
        """Load settings, embedder, index, retriever and LLM. Collaborators can be passed in
        (tests pass fakes)."""
        settings = settings or Settings()
        if index_dir is not None:
            settings = settings.model_copy(update={"index_dir": Path(index_dir)})
        prompts = load_prompts(settings.prompts_dir)
        embedder = embedder or load_embedder(settings.embedder, settings.cache_dir)
        index = open_index(settings.index_dir, embedder.name, embedder.sha256, settings.store)
        retriever = Retriever(index, embedder, settings.retrieval)
        generator = generator or load_generator(settings.llm, settings.cache_dir)
        assistant = cls(settings, index, embedder, generator, prompts, retriever)
        assistant.warm_up()
        return assistant

    def warm_up(self) -> None:
        """Load the embedder and prefill the system prompt now, not on the first question."""
        self.embedder.embed(["warm up"])
        self.generator.warm_up(self._system)

    @property
    def model_name(self) -> str:
        return self.generator.name

    def ask(self, question: str) -> Answer:
        """Answer one question (blocking)."""
        for event in self.stream(question):
            if event.answer is not None:
                return event.answer
        raise AssertionError("stream() always ends with an answer event")

    def chat(self, messages: Sequence[Turn]) -> Answer:
        """Answer the last user message of a conversation (blocking)."""
        for event in self.chat_stream(messages):
            if event.answer is not None:
                return event.answer
        raise AssertionError("chat_stream() always ends with an answer event")

    def chat_stream(self, messages: Sequence[Turn]) -> Iterator[StreamEvent]:
        """Stream the answer to the last user message, made to stand on its own first
        ("What about its side effects?" -> "What are the side effects of memantine?")."""
        forms = standalone_questions(messages, self.lexicon, self.spelled)
        if not forms:
            raise QAError("the conversation has no user message",
                          hint="Send at least one message with the role 'user'.")
        last = next(t.content for t in reversed(messages) if t.role == "user")
        yield from self.stream(last, standalone=forms[-1])

    def spelled(self, text: str) -> str:
        """The text with the drug names it misspells as the documents spell them."""
        return self.retriever.spell_names(text, self.lexicon.drugs)

    def stream(self, question: str, standalone: str | None = None, *,
               drafts: bool = False) -> Iterator[StreamEvent]:
        """Yield evidence as soon as retrieval finishes, then each verified sentence as soon
        as it holds, then the Answer (whose text is those sentences).

        ``standalone`` is what to search for when ``question`` is a follow-up in a
        conversation; triage reads both. ``drafts`` also yields the model's raw tokens
        (benchmarks time them; people should not see them).
        """
        searched = standalone or question
        for event in self._stream(question, searched, drafts):
            if event.answer is not None:
                event = StreamEvent(EventKind.ANSWER, answer=replace(
                    event.answer, standalone_question=searched))
            yield event

    def _stream(self, question: str, searched: str, drafts: bool) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        question = checked_question(question, self.settings.answer.max_question_chars)
        triage = self.triage.classify(question)
        if triage.kind is None and searched != question:
            triage = self.triage.classify(searched)  # "too many of them" after a drug turn
        if triage.kind in URGENT:
            yield self._done(self._redirect(question, triage, started))
            return
        # Instructions inside a question are not followed: they never reach the model.
        asked = self.spelled(asked_alone(as_yes_no(in_plain_words(
            strip_injections(searched))), self.lexicon))
        if requests_manufacture(asked):  # never instructions to produce a drug
            yield self._done(self._refusal_answer(
                question, triage, Timings(total_ms=_ms(started)), AnswerStatus.OUT_OF_SCOPE))
            return
        query = self.retriever.rewrite(asked) if asked else ""
        focus = focus_of(query, self.lexicon, asked)
        if asked and focus.missing:  # names something the documents never mention
            note = f"{self._refusal} {never_mentioned(focus.missing)}"
            yield self._done(self._refusal_answer(
                question, triage, Timings(total_ms=_ms(started)),
                AnswerStatus.INSUFFICIENT_EVIDENCE, text=note))
            return
        relevance = Relevance.of(asked, focus, self.lexicon)
        parts = self._parts(asked, query, relevance) if asked else []
        passages = _union(p.found.passages for p in parts)
        relevant = _union(p.found.relevant for p in parts)
        retrieve_ms = _ms(started)
        if not relevant:
            yield self._done(self._refusal_answer(
                question, triage, Timings(retrieve_ms=retrieve_ms, total_ms=_ms(started)),
                AnswerStatus.INSUFFICIENT_EVIDENCE, seen=_Seen(passages)))
            return
        yield StreamEvent(EventKind.EVIDENCE, passages=relevant)
        times = _Times(started, retrieve_ms)
        raws: list[str] = []
        results: list[Verified] = []
        evidence: list[Evidence] = []
        for part in parts:
            if not part.found.relevant:
                results.append(Verified("", (), ()))
                continue
            raw, verified, shown = yield from self._generate(part, len(evidence), triage,
                                                             times, drafts)
            raws.append(raw)
            results.append(verified)
            evidence += shown
        merged = _merged(results)
        if merged.citations:
            # "Which one can make driving unsafe, dantrolene or memantine?": the drug the
            # documents say nothing about is named, not silently left out
            notes = [f"{p.label}{self._refusal}" for p, v in zip(parts, results, strict=True)
                     if p.label and not v.citations]
            for note in notes:
                yield StreamEvent(EventKind.SENTENCE, text=note)
            merged = replace(merged, text=" ".join([merged.text, *notes]))
        yield self._done(self._final(question, triage, "\n\n".join(raws), merged,
                                     evidence, relevant, times.timings()))

    def _generate(self, part: _Part, offset: int, triage: Triage, times: _Times,
                  drafts: bool) -> abc.Generator[StreamEvent, None,
                                                 tuple[str, Verified, list[Evidence]]]:
        """One part's answer, each verified sentence yielded as soon as it holds; returns the
        model's text, the verified answer and the excerpts shown, numbered from
        ``offset + 1`` (after the parts before it)."""
        shown = select_evidence(part.asked, list(part.found.relevant), self.embedder,
                                self.settings.answer, about=part.relevance.about,
                                hide=part.relevance.hide, sides=part.relevance.sides(),
                                aspect=part.aspect)
        composer = self._composer(part.asked, shown, part.relevance, triage, part.aspect)
        raw, sentences = "", SentenceStream()
        label = part.label  # before the part's first sentence

        def sent(texts: Iterable[str]) -> Iterator[StreamEvent]:
            nonlocal label
            for text in texts:
                times.sentence()
                yield StreamEvent(EventKind.SENTENCE, text=label + renumbered(text, offset))
                label = ""

        for piece in self.generator.generate(self.build_prompt(part.asked, shown)):
            times.token()
            raw += piece
            if drafts:
                yield StreamEvent(EventKind.TOKEN, text=piece)
            yield from sent(t for done in sentences.feed(piece) for t in composer.feed(done))
            if composer.stopped:
                break  # the answer is complete (a quote): no need to hear the model out
        yield from sent(t for done in sentences.flush() for t in composer.feed(done))
        verified, held = composer.finish()
        yield from sent(held)
        verified = _shifted(verified, offset)
        if part.label and verified.citations:
            verified = replace(verified, text=part.label + verified.text)
        return renumbered(raw, offset), verified, [replace(e, n=e.n + offset) for e in shown]

    def _parts(self, asked: str, query: str, relevance: Relevance) -> list[_Part]:
        """What to answer, one generation each: the question, or, for a question comparing
        drugs ("How do the side effects of memantine differ from those of dantrolene?"),
        the question asked of each drug alone, with that drug's own passages. Shown both
        drugs' excerpts at once, the 1.5B model merges them into one claim ("Memantine and
        dantrolene are used for depression…") that holds for neither. A yes/no question
        ("Is ketamine stronger than memantine?") has one answer, so it stays whole."""
        if not relevance.compared:
            if relevance.asked_drugs and route_crowded(asked, relevance.hide):
                # "How is ketamine given for depression?" ranks the depression passages
                # first: a search for the route of the drug takes every second place
                route = f"{' '.join(sorted(relevance.asked_drugs))} {ROUTE}"
                return [_Part(asked, relevance, self.retriever.search_each(query,
                                                                           [query, route]))]
            found = self.retriever.search(query)
            aspect = setting_of(asked, [p.chunk.text for p in found.relevant],
                                relevance.hide) \
                if relevance.asked_drugs and not relevance.focus.polar else None
            if aspect is None:
                return [_Part(asked, relevance, found)]
            # "What side effects can memantine cause in people with Alzheimer's disease?":
            # the passages on the side effects, not on the disease, take every second place
            also = self.retriever.search(self.retriever.rewrite(aspect))
            setting = frozenset(relevance.names(asked) - relevance.names(aspect))
            return [_Part(asked, replace(relevance, setting=setting),
                          self.retriever.taken_in_turn(query, [found, also]), aspect=aspect)]
        if relevance.focus.polar or not relevance.contrasted:
            return [_Part(asked, relevance,
                          self.retriever.search_each(query, relevance.side_questions(query)))]
        parts = []
        drugs = relevance.contrasted
        for drug, side in zip(drugs, relevance.side_questions(asked, drugs), strict=True):
            side_query = self.retriever.rewrite(side)
            side_relevance = Relevance.of(side, focus_of(side_query, self.lexicon), self.lexicon)
            parts.append(_Part(side, side_relevance, self.retriever.search(side_query),
                               label=f"{drug[:1].upper()}{drug[1:]}: "))
        return parts

    def build_prompt(self, question: str, evidence: list[Evidence]) -> ChatPrompt:
        """Number the excerpts [1..n]; the fixed system turn comes first (KV-cache reuse)."""
        blocks = [
            self.prompts.render(
                "passage.txt", n=e.n, title=e.chunk.title, section=e.chunk.section or "-",
                text=e.text,
            )
            for e in evidence
        ]
        user = self.prompts.render("answer.txt", passages="\n\n".join(blocks), question=question)
        excerpts = tuple(Excerpt(e.chunk.title, e.chunk.text, e.start - e.chunk.start,
                                 e.end - e.chunk.start) for e in evidence)
        return ChatPrompt(system=self._system, user=user, grammar=self._grammar,
                          excerpts=excerpts)

    def prepare(self, progress: Callable[[int], None] | None = None, group: int = 8) -> int:
        """Precompute what the model needs to answer from each indexed chunk (the local
        backend's evidence blocks), skipping chunks already done; how many were computed."""
        chunks = [(c.title, c.text) for c in self.index.chunks]
        done = 0
        for first in range(0, len(chunks), group):
            done += self.generator.prepare(self._system, chunks[first : first + group])
            if progress is not None:
                progress(len(chunks[first : first + group]))
        return done

    @staticmethod
    def _done(answer: Answer) -> StreamEvent:
        return StreamEvent(EventKind.ANSWER, answer=answer)

    def _composer(self, question: str, evidence: list[Evidence], relevance: Relevance,
                  triage: Triage, aspect: str | None = None) -> Composer:
        """The streamed answer's composer: verifier, best excerpt, whether it may be quoted."""
        cfg = self.settings.answer
        verifier = SentenceVerifier(
            evidence, self.embedder, cfg.support_threshold, cfg.min_word_coverage,
            allow_doses=triage.kind is not TriageKind.PERSONAL_DOSING,
            vocabulary=self.lexicon.vocabulary, relevance=relevance)
        ranked = quotes(question, evidence, relevance, self.embedder, aspect)
        best = ranked[0].score if ranked else 0.0
        quotable, vouch = best >= cfg.quote_score, cfg.vouch_score
        if ranked and (same := names_asked_same(question, relevance)):
            # asked whether names are one drug, a line naming two of them says so or not
            # whatever its score ("Meclizine is the generic name for … Antivert … and
            # Bonine"; "…donepezil (Aricept)… Another drug, memantine (Namenda)…")
            quotable = quotable or pairs_names(ranked[0].text, same)
        if ranked and triage.kind is TriageKind.PERSONAL_DOSING:
            # Only a quote that states no amount and says yes or no to the question: "Is it
            # safe to stop taking sertraline all at once?" gets "No." and "Do not stop
            # taking sertraline suddenly…"; "can I double my dose" no remark on dosing.
            quotable = quotable and not DOSE.search(with_list(ranked[0]).text) \
                and documents_polarity(question, ranked, relevance) is not None
            vouch = float("inf")
        return Composer(question, verifier, relevance, ranked, quotable, self._refusal,
                        self._links, vouch_score=vouch)

    def _final(self, question: str, triage: Triage, raw: str, verified: Verified,
               evidence: list[Evidence], passages: tuple[Passage, ...],
               timings: Timings) -> Answer:
        """The Answer: what was sent, with its citations; a refusal when nothing held."""
        excerpts = tuple(citation_for(e) for e in evidence)
        if not verified.citations:
            return self._refusal_answer(
                question, triage, timings, AnswerStatus.INSUFFICIENT_EVIDENCE,
                seen=_Seen(passages, raw, verified.checks, excerpts))
        return Answer(
            question=question, text=verified.text, status=AnswerStatus.ANSWERED,
            model=self.model_name, timings=timings, citations=verified.citations,
            guidance=self._dosing_note(triage), disclaimer=self.prompts.disclaimer(triage.kind),
            triage=triage.kind, raw_answer=raw, settings_hash=self.settings.fingerprint(),
            passages=passages, checks=verified.checks, excerpts=excerpts,
        )

    def _dosing_note(self, triage: Triage) -> str:
        """Personal-dosing questions, answered or not, always end with "ask the prescriber"."""
        if triage.kind is TriageKind.PERSONAL_DOSING:
            return self.prompts.triage_text(triage.kind)
        return ""

    def _refusal_answer(
        self, question: str, triage: Triage, timings: Timings, status: AnswerStatus,
        text: str | None = None, seen: _Seen = _Seen(),
    ) -> Answer:
        """The refusal sentence (or ``text``), with what was ``seen`` on the way."""
        return Answer(
            question=question, text=text or self._refusal, status=status,
            model=self.model_name, timings=timings, guidance=self._dosing_note(triage),
            triage=triage.kind, raw_answer=seen.raw_answer,
            settings_hash=self.settings.fingerprint(), passages=seen.passages,
            checks=seen.checks, excerpts=seen.excerpts,
        )

    def _redirect(self, question: str, triage: Triage, started: float) -> Answer:
        """Emergencies and self-harm: fixed guidance at once, no retrieval, no model."""
        assert triage.kind is not None
        return Answer(
            question=question, text="", status=AnswerStatus.URGENT_CARE_REDIRECT,
            model=self.model_name, timings=Timings(total_ms=_ms(started)),
            guidance=self.prompts.triage_text(triage.kind),
            disclaimer=self.prompts.disclaimer(triage.kind), triage=triage.kind,
            settings_hash=self.settings.fingerprint(),
        )
