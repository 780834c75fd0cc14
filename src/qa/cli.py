"""Thin `qa` commands: parse arguments, call the core, print, set the exit code.

Only this module turns QAError into a one-line message and exit status 1 (no traceback).
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from qa.config import Settings
from qa.errors import QAError

if TYPE_CHECKING:
    from qa.ingestion import IngestReport
    from qa.types import Answer

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("qa")


def _fail_cleanly(func: F) -> F:
    """Turn a QAError (and bad settings) into `Error: <problem>. <remedy>` with exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except QAError as err:
            raise click.ClickException(err.one_line()) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _settings(index: Path | None = None, corpus: Path | None = None) -> Settings:
    from pydantic import ValidationError

    overrides: dict[str, Any] = {
        k: v for k, v in (("index_dir", index), ("corpus_dir", corpus)) if v}
    try:
        return Settings(**overrides)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise click.ClickException(
            f"invalid setting {where}: {first['msg']}. Check qa.toml and QA_* variables."
        ) from None


def _say_models(llm: str | None, embedder: str) -> None:
    parts = [f"embedder {embedder}"] + ([f"LLM {llm}"] if llm else [])
    click.echo("Using " + ", ".join(parts), err=True)


@click.group()
@click.option("-v", "--verbose", count=True, help="-v for progress details, -vv for debug.")
@click.version_option(package_name="qa")
def cli(verbose: int) -> None:
    """Private, offline answers from your medical documents, with cited passages."""
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s"
    )
    if not verbose:  # libraries' deprecation notes are not for users; -v shows them
        warnings.simplefilter("ignore")


@cli.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--index", "index_dir", type=click.Path(path_type=Path), envvar="QA_INDEX_DIR",
              help="Index folder (default: index/).")
@click.option("--rebuild", is_flag=True, help="Re-embed every document from scratch.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local",
              show_default=True, envvar="QA_INGEST_ENGINE",
              help="Where reading, chunking and embedding run: this process, or Ray Data "
              "(a local Ray, or the cluster in RAY_ADDRESS).")
@click.option("--actors", type=click.IntRange(min=1), default=2, show_default=True,
              help="Ray: embedder actors (and chunkers) at a time.")
@click.option("--blocks/--no-blocks", default=True, show_default=True,
              help="Also run every new chunk through the local LLM once and keep its "
              "evidence blocks (llm.splice), so an answer computes only its question.")
@_fail_cleanly
def ingest(path: Path | None, index_dir: Path | None, rebuild: bool, engine: str,
           actors: int, blocks: bool) -> None:
    """Index the documents in PATH (default: ingest/); only changed files are re-embedded.

    Prints one line per ignored entry (not a document: hidden, unsupported type, special
    file, symlink leaving the folder) and per skipped document (could not be read), then
    a summary. Exit status: 0 when every document was indexed (ignored entries do not
    count), 1 when a document was skipped (the others are indexed and live) or on an
    error (nothing changed), 130 on Ctrl-C.
    """
    from qa.index import current_generation

    settings = _settings(index_dir, path)
    before = current_generation(settings.index_dir)
    try:
        report = _run_ingest(settings, rebuild, engine, actors)
    except KeyboardInterrupt:
        after = current_generation(settings.index_dir)
        state = ("the new index had already been committed and is live" if after != before
                 else "the previous index is unchanged")
        click.echo(f"Interrupted; {state}.", err=True)
        sys.exit(130)
    _print_ingest(settings.index_dir, report)
    if blocks and settings.llm.splice and settings.llm.backend == "llama_cpp":
        _prepare_blocks(settings)
    if report.skipped:
        sys.exit(1)


def _prepare_blocks(settings: Settings) -> None:
    """The evidence blocks of chunks that have none; a failure leaves a usable index
    (answers then compute their evidence), so it is one line, not an error."""
    from tqdm import tqdm

    from qa.answer import Assistant

    started = time.perf_counter()
    try:
        assistant = Assistant.load(settings=settings)
        total = len(assistant.index.chunks)
        with tqdm(total=total, desc="evidence blocks", disable=not sys.stderr.isatty()) as bar:
            done = assistant.prepare(bar.update)
    except QAError as err:
        click.echo(f"Evidence blocks not computed ({err.one_line()}); answers will compute "
                   "their evidence instead.", err=True)
        return
    click.echo(f"Evidence blocks ({assistant.model_name}): {done} chunk{'s' * (done != 1)} "
               f"computed, {total - done} already there, in "
               f"{time.perf_counter() - started:.1f}s", err=True)


def _run_ingest(settings: Settings, rebuild: bool, engine: str, actors: int) -> IngestReport:
    from qa.embeddings import load_embedder
    from qa.ingest_engine import Engine, LocalEngine
    from qa.ingestion import ingest as run_ingest

    embedder = load_embedder(settings.embedder, settings.cache_dir)
    _say_models(None, embedder.name)
    runner: Engine = LocalEngine()
    if engine == "ray":
        from qa.ray_ingest import RayEngine

        runner = RayEngine(settings.embedder, settings.cache_dir, actors)
    return run_ingest(
        settings.corpus_dir, settings.index_dir, embedder, settings.chunking,
        store_cfg=settings.store, rebuild=rebuild, progress=sys.stderr.isatty(),
        limits=settings.ingest, engine=runner,
    )


def _print_ingest(index_dir: Path, report: IngestReport) -> None:
    """One line per ignored entry, skipped document and flagged document; then the summary."""
    for source, reason in report.ignored.items():
        click.echo(f"ignored {source}: {reason}", err=True)
    for source, message in report.skipped.items():
        click.echo(f"skipped {source}: {message.removeprefix(f'cannot read {source}: ')}",
                   err=True)
    for source, flags in report.flagged.items():
        more = f" (+{len(flags) - 1} more)" if len(flags) > 1 else ""
        click.echo(f"flagged {source}: {flags[0]}{more}; that text is never evidence",
                   err=True)
    state = ("updated (a delta)" if report.delta else "updated") if report.wrote else (
        "already up to date")
    click.echo(
        f"Index {index_dir} {state}: {len(report.added)} added, "
        f"{len(report.updated)} changed, {len(report.removed)} removed, "
        f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped, "
        f"{len(report.ignored)} ignored; "
        f"{report.chunks} chunks ({report.near_duplicates} near-duplicates dropped) "
        f"in {report.seconds:.1f}s"
    )


def _print_human(answer: Answer) -> None:
    click.echo(answer.answer)
    for c in answer.citations:
        snippet = " ".join(c.text.split())[:160]
        where = f"p. {c.page}" if c.page else f"chars {c.start}-{c.end}"
        click.echo(f"  [{c.n}] {c.title} ({c.source}, {where}): {snippet}…")
    click.echo(f"({answer.model}; first token {answer.timings.first_token_ms} ms, "
               f"total {answer.timings.total_ms} ms)", err=True)


@cli.command()
@click.option("--index", "index_dir", type=click.Path(path_type=Path), envvar="QA_INDEX_DIR",
              help="Index folder (default: index/).")
@click.option("--flagged", is_flag=True, help="Only documents with text aimed at a model.")
@_fail_cleanly
def documents(index_dir: Path | None, flagged: bool) -> None:
    """List the indexed documents: source, chunks, title, and any warning flags."""
    from qa.errors import IndexMissingError
    from qa.index import read_manifest

    settings = _settings(index_dir)
    manifest = read_manifest(settings.index_dir)
    if manifest is None:
        raise IndexMissingError(f"no index in {settings.index_dir}")
    for entry in sorted(manifest.documents.values(), key=lambda e: e.source):
        if flagged and not entry.flags:
            continue
        click.echo(f"{entry.source}\t{entry.chunks} chunks\t{entry.title}")
        for flag in entry.flags:
            click.echo(f"  flagged: {flag}")


@cli.command()
@click.argument("question", required=False)
@click.option("--index", "index_dir", type=click.Path(path_type=Path), envvar="QA_INDEX_DIR",
              help="Index folder (default: index/).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per answer.")
@click.option("--batch", type=click.File("r"), help="File with one question per line.")
@_fail_cleanly
def ask(question: str | None, index_dir: Path | None, as_json: bool,
        batch: IO[str] | None) -> None:
    """Answer QUESTION from the indexed documents, citing the passages used.

    A question longer than answer.max_question_chars is refused in one line (exit 1); in
    a --batch run, such a question gets its own "Error:" line and the others are answered.
    """
    from qa.answer import Assistant

    if not question and batch is None:
        raise click.UsageError("give a QUESTION or --batch FILE")
    settings = _settings(index_dir)
    assistant = Assistant.load(settings=settings)
    _say_models(assistant.model_name, assistant.embedder.name)
    lines = batch if batch is not None else ()
    questions = [question] if question else [q.strip() for q in lines if q.strip()]
    from tqdm import tqdm

    show_bar = batch is not None and sys.stderr.isatty()
    failed = 0
    for n, q in enumerate(tqdm(questions, desc="questions", disable=not show_bar), start=1):
        try:
            answer = assistant.ask(q)
        except QAError as err:
            if batch is None:
                raise
            failed += 1  # a batch goes on: one line for this question, exit 1 at the end
            click.echo(f"Error: question {n}: {err.one_line()}", err=True)
            continue
        if as_json:
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            _print_human(answer)
    if failed:
        sys.exit(1)


@cli.command()
@click.option("--index", "index_dir", type=click.Path(path_type=Path), envvar="QA_INDEX_DIR")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=7860, show_default=True, type=int)
@_fail_cleanly
def ui(index_dir: Path | None, host: str, port: int) -> None:
    """Start the Gradio chat on http://HOST:PORT (any HOST but 127.0.0.1 needs a login:
    set QA_UI__PASSWORD)."""
    from qa.ui.app import serve

    serve(_settings(index_dir), host, port)


@cli.command()
@click.option("--host", default=None,
              help="Address to listen on [default: 127.0.0.1]; any other needs QA_API_KEY.")
@click.option("--port", default=None, type=int, help="Port [default: 8000].")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), envvar="QA_INDEX_DIR",
              help="Index folder (default: index/).")
@click.option("--ui", "with_ui", is_flag=True,
              help="Also serve the chat page at /ui: one process, one model, one queue.")
@_fail_cleanly
def serve(host: str | None, port: int | None, index_dir: Path | None, with_ui: bool) -> None:
    """Serve an OpenAI-compatible chat API on http://HOST:PORT/v1 (docs at /docs)."""
    from qa.answer import Assistant
    from qa.server import check_bind, create_app, run
    from qa.service import AnswerService

    settings = _settings(index_dir)
    host, port = host or settings.server.host, port or settings.server.port
    check_bind(host, settings.api_key.get_secret_value() if settings.api_key else None)
    if with_ui:
        from qa.ui.app import login_for

        login_for(settings, host)  # the page's login rules, before any model is loaded
    assistant = Assistant.load(settings=settings)
    _say_models(assistant.model_name, assistant.embedder.name)
    service = AnswerService(assistant, settings.server, workers=settings.llm.parallel)
    app = create_app(service, settings)
    if with_ui:
        from qa.ui.app import mount

        app = mount(app, service, settings, host)
    click.echo(f"API on http://{host}:{port}/v1 (docs /docs"
               + (", chat /ui)" if with_ui else ")"), err=True)
    run(app, host, port)


@cli.command("eval")
@click.option("--questions", type=click.Path(exists=True, path_type=Path),
              default=Path("eval/questions.jsonl"), show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("eval/reports"),
              show_default=True, help="Folder for the JSON report, summary and audit sheet.")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), envvar="QA_INDEX_DIR")
@click.option("--split", type=click.Choice(["all", "dev", "test"]), default="all",
              show_default=True)
@click.option("--limit", type=int, default=None, help="Only the first N questions (smoke run).")
@click.option("--poisoned", "poisoned_dir", type=click.Path(path_type=Path),
              default=Path("eval/poisoned"), show_default=True,
              help="Documents added to the default ones for the 'poisoned' questions.")
@click.option("--conditions", "conditions_dir", type=click.Path(path_type=Path),
              default=Path("eval/conditions"), show_default=True,
              help="Pages about conditions added to the default ones for the 'conditions' "
              "questions.")
@click.option("--leaflets", "leaflets_dir", type=click.Path(path_type=Path),
              default=Path("eval/leaflets"), show_default=True,
              help="Drug-label passages added to the default ones for the 'leaflets' "
              "questions.")
@click.option("--conversations", type=click.Path(path_type=Path),
              default=Path("eval/conversations.jsonl"), show_default=True,
              help="Conversations whose last turn is scored ('' to skip).")
@click.option("--generation-cache", type=click.Path(path_type=Path), default=None,
              help="Development aid: reuse model replies to identical prompts from this JSON "
              "file (latency figures are then meaningless).")
@_fail_cleanly
def eval_cmd(  # noqa: PLR0913 - one parameter per click option
    questions: Path, out: Path, index_dir: Path | None, split: str, limit: int | None,
    poisoned_dir: Path, conditions_dir: Path, leaflets_dir: Path, conversations: Path,
    generation_cache: Path | None,
) -> None:
    """Run the fixed question set through the same path as the UI and write a report."""
    from qa.answer import Assistant
    from qa.eval_report import write_report
    from qa.evaluation import (
        CachedGenerator,
        corpus_assistant,
        load_conversations,
        load_questions,
        run_eval,
    )
    from qa.llm import Generator, load_generator

    settings = _settings(index_dir)
    items = load_questions(questions, split=split, limit=limit)
    generator: Generator = load_generator(settings.llm, settings.cache_dir)
    if generation_cache:
        llm = settings.llm
        generator = CachedGenerator(generator, generation_cache, variant=(
            f"splice={llm.splice}:{llm.splice_refresh}" if llm.splice else ""))
    assistant = Assistant.load(settings=settings, generator=generator)
    assistant.prepare()  # evidence blocks of any chunk `qa ingest` did not compute
    _say_models(assistant.model_name, assistant.embedder.name)
    assistants = {"default": assistant}
    chats = (load_conversations(conversations, split)[:limit]
             if conversations.is_file() else [])
    for corpus, extra in (("poisoned", poisoned_dir), ("conditions", conditions_dir),
                          ("leaflets", leaflets_dir)):
        if any(q.corpus == corpus for q in items) or any(c.corpus == corpus for c in chats):
            assistants[corpus] = corpus_assistant(
                assistant, [settings.corpus_dir, extra], Path(".qa-cache/eval") / corpus)
    report = run_eval(assistants, items, progress=sys.stderr.isatty(), conversations=chats)
    json_path, md_path = write_report(report, out)
    click.echo(md_path.read_text())
    click.echo(f"Wrote {json_path} and {md_path}", err=True)


@cli.command("eval-diff")
@click.argument("before", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("after", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the comparison to this markdown file.")
@_fail_cleanly
def eval_diff(before: Path, after: Path, out: Path | None) -> None:
    """Which questions two `qa eval` JSON reports answered differently (a refactor, another
    backend); exit status 1 when any did."""
    import json

    from qa.eval_report import diff_reports

    try:
        reports = [json.loads(p.read_text(encoding="utf-8")) for p in (before, after)]
        text, differing = diff_reports(*reports)
    except (ValueError, KeyError, TypeError) as err:
        raise QAError(f"not a qa eval report ({type(err).__name__}: {err})",
                      hint="Pass two JSON files written by `qa eval`.") from None
    if out:
        out.write_text(text, encoding="utf-8")
    click.echo(text)
    if differing:
        sys.exit(1)


@cli.command()
@click.option("--questions", type=click.Path(exists=True, path_type=Path),
              default=Path("eval/questions.jsonl"), show_default=True)
@click.option("--split", type=click.Choice(["all", "dev", "test"]), default="test",
              show_default=True)
@click.option("--limit", type=int, default=None, help="Only the first N questions.")
@click.option("--only", multiple=True, metavar="TEXT",
              help="Only the default set-up and those whose name contains TEXT (repeatable).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("eval/reports"),
              show_default=True)
@_fail_cleanly
def speed(questions: Path, split: str, limit: int | None, only: tuple[str, ...],
          out: Path) -> None:
    """Time the answer path (first token, first verified sentence, decode speed, prompt
    tokens computed after the question) in each set-up of qa.speed, beside a naive
    top-4-chunk RAG prompt, interleaved, on the answerable questions of the eval set."""
    from qa.evaluation import load_questions
    from qa.speed import run_speed

    items = [q.question for q in load_questions(questions, split=split)
             if q.category in ("answerable", "multi_doc")][:limit]
    json_path, md_path = run_speed(_settings(), items, out, only)
    click.echo(md_path.read_text())
    click.echo(f"Wrote {json_path} and {md_path}", err=True)


@cli.group()
def models() -> None:
    """List or provision the model weights."""


@models.command("list")
def models_list() -> None:
    """Known models and whether they are provisioned."""
    from qa.models import EMBEDDERS, LLMS, gguf_cache_path

    settings = _settings()
    for spec in LLMS.values():
        path = gguf_cache_path(spec, settings.cache_dir)
        state = "ready" if path.exists() else "not provisioned"
        click.echo(f"llm       {spec.name:22} {state:16} {spec.description}")
    for embedder in EMBEDDERS.values():
        click.echo(f"embedder  {embedder.name:22} {'package':16} "
                   f"{' '.join(embedder.packages())}")


@models.command("pull")
@click.argument("names", nargs=-1)
@_fail_cleanly
def models_pull(names: tuple[str, ...]) -> None:
    """Provision NAMES (default: the configured LLM) into the cache, verified by SHA-256."""
    from qa.models import LLMS, provision_llm

    settings = _settings()
    for name in names or (settings.llm.model,):
        if name not in LLMS:
            raise click.ClickException(f"unknown model '{name}'; known: {', '.join(LLMS)}")
        path = provision_llm(name, settings.cache_dir, progress=sys.stderr.isatty())
        click.echo(f"{name}: {path} (verified)")


@cli.command()
@click.argument("suite", type=click.Choice(["medicationqa", "pubmedqa", "medquad", "all",
                                            "pubmedqa-probe", "reliability", "scale",
                                            "concurrency"]))
@click.option("--limit", type=int, default=None,
              help="Only N questions (a quick smoke run); concurrency: N clients.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("eval/reports"),
              show_default=True, help="Folder for the JSON report, markdown and plot.")
@click.option("--index-dir", type=click.Path(path_type=Path), default=Path(".qa-cache/bench"),
              show_default=True, envvar="QA_BENCH_INDEX_DIR",
              help="Where the benchmark indexes are built (reused while unchanged).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              envvar="QA_BENCH_DATA_DIR", help="Datasets folder (default: ../shared/data).")
@click.option("--no-generate", is_flag=True, help="Retrieval only: never load the LLM.")
@click.option("--compare", is_flag=True,
              help="MedicationQA: also score embedder, chunking and second-pass variants.")
@click.option("--sample", "generate_sample", type=int, default=100, show_default=True,
              help="Questions answered by the LLM (MedicationQA, PubMedQA per setting).")
@click.option("--split", type=click.Choice(["test", "dev"]), default="test", show_default=True,
              help="PubMedQA split to score; 'dev' also fits the yes/no/maybe label offsets "
              "(pubmedqa-probe: the probe, written to eval/pubmedqa-probe.json).")
@click.option("--chunks", type=click.IntRange(min=100), default=1_000_000, show_default=True,
              help="scale: vectors in the synthetic index (real ones plus perturbed copies).")
@click.option("--store", "stores", multiple=True,
              help="scale: only the store configurations with this name (repeatable), e.g. "
              "'faiss ivf'; a name matches every configuration that starts with it.")
@_fail_cleanly
def bench(  # noqa: PLR0913 - one parameter per click option
    suite: str, limit: int | None, out: Path, index_dir: Path, data_dir: Path | None,
    no_generate: bool, generate_sample: int, split: str, compare: bool, chunks: int,
    stores: tuple[str, ...],
) -> None:
    """Run a benchmark SUITE and write eval/reports/bench-SUITE-<time>.{json,md,png}.

    'all' runs the public datasets; 'pubmedqa-probe' decides PubMedQA by a linear probe
    of the model's hidden state (run it with --split dev first); 'reliability' attacks
    ingestion, the index, questions and the network boundary (run it with
    QA_LLM__MODEL=qwen2.5-coder-0.5b); 'scale' measures the vector stores at --chunks
    vectors; 'concurrency' sends 10 openai clients x 3 questions to a real `qa serve`.
    """
    from qa.benchmarks import PUBLIC, BenchContext, suite_runner
    from qa.benchmarks.data import default_data_dir
    from qa.benchmarks.report import write_report

    ctx = BenchContext(
        settings=_settings(), data_dir=data_dir or default_data_dir(), index_root=index_dir,
        limit=limit, progress=sys.stderr.isatty(), generate=not no_generate,
        generate_sample=generate_sample, split=split, compare=compare, chunks=chunks,
        stores=stores,
    )
    for name in PUBLIC if suite == "all" else (suite,):
        report = suite_runner(name)(ctx)
        json_path, md_path = write_report(report, out)
        click.echo(f"{name}: {json_path} and {md_path}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="qa")


if __name__ == "__main__":
    main()
