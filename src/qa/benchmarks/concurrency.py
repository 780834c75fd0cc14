"""`qa bench concurrency`: many `openai` clients at once against a real `qa serve`.

Ten clients (``--limit`` fewer) start together; each holds a three-turn conversation (a
first question, then follow-ups that only make sense in its light), half of them
streamed. The server decodes up to ``llm.parallel`` answers together and queues the rest
in arrival order, so the end-to-end latency is queue time plus answer time; both are
reported, with errors and a check that each answer is about its own question: what was
searched for names the client's drug and every citation comes from that drug's document.
Whatever else used the CPU during the run is measured from /proc and said in the report.
Then ``concurrency_sweep`` compares serial and parallel serving at 1, 2, 4 and 8 clients.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qa.benchmarks.report import BenchReport, Plot, table
from qa.benchmarks.runner import BenchContext
from qa.errors import DependencyError, QAError
from qa.index import current_generation, read_generation
from qa.ingestion import ingest
from qa.reporting import percentile

DRUGS = ("memantine", "ketamine", "dantrolene")
# (question, the drug it is about): follow-ups name no drug, the last one switches.
CONVERSATIONS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("How does memantine work?", "memantine"), ("What are its side effects?", "memantine"),
     ("What is it used for?", "memantine")),
    (("What is ketamine used for?", "ketamine"), ("How is it given?", "ketamine"),
     ("What are its side effects?", "ketamine")),
    (("What was dantrolene originally developed to treat?", "dantrolene"),
     ("How does it work?", "dantrolene"), ("What are its side effects?", "dantrolene")),
    (("What is memantine used for?", "memantine"), ("How does it work?", "memantine"),
     ("Is it safe to drive after taking it?", "memantine")),
    (("How does ketamine work?", "ketamine"), ("How fast does it work?", "ketamine"),
     ("Is it addictive?", "ketamine")),
    (("What is dantrolene?", "dantrolene"), ("What are its side effects?", "dantrolene"),
     ("How is it taken?", "dantrolene")),
    (("Tell me about memantine.", "memantine"), ("What about its side effects?", "memantine"),
     ("How does it protect neurons?", "memantine")),
    (("Tell me about ketamine for depression.", "ketamine"),
     ("What are its side effects?", "ketamine"), ("How is it given?", "ketamine")),
    (("How does dantrolene work?", "dantrolene"), ("What is the usual dose?", "dantrolene"),
     ("What are the side effects?", "dantrolene")),
    (("Can ketamine treat anxiety?", "ketamine"), ("How does it work?", "ketamine"),
     ("and for memantine?", "memantine")),
)


@dataclass
class Result:
    """One request as its client saw it."""

    client: int
    turn: int
    drug: str
    question: str
    streamed: bool
    seconds: float = 0.0
    first_content_s: float | None = None
    error: str | None = None
    standalone: str = ""
    status: str = ""
    sources: list[str] = field(default_factory=list)
    queue_ms: float | None = None
    answer_ms: float | None = None
    problems: list[str] = field(default_factory=list)


def judge(drug: str, standalone: str, sources: list[str],
          doc_drugs: dict[str, str]) -> list[str]:
    """Why an answer is not about its own question (empty when it is)."""
    searched = standalone.lower()
    problems = [] if drug in searched else [f"searched for {standalone!r}, not {drug}"]
    problems += [f"searched for another drug: {d}" for d in DRUGS if d != drug and d in searched]
    problems += [f"cites {s} (about {doc_drugs.get(s, 'no drug')})" for s in sources
                 if doc_drugs.get(s) != drug]
    return problems


def documents_by_drug(index_dir: Path) -> dict[str, str]:
    """Each document's source -> the drug it names most (of DRUGS)."""
    gen = current_generation(index_dir)
    if gen is None:
        raise QAError(f"no index in {index_dir}")
    out = {}
    for doc in read_generation(gen).documents.values():
        text = doc.text.lower()
        counts = {d: text.count(d) for d in DRUGS}
        best = max(counts, key=lambda d: counts[d])
        if counts[best]:
            out[doc.source] = best
    return out


def _ask(client: Any, messages: list[dict[str, str]], result: Result) -> str:
    """Send one request; fill in the timings and the qa extension; return the content."""
    started = time.perf_counter()
    if result.streamed:
        content, qa = "", dict[str, Any]()
        for chunk in client.chat.completions.create(model="qa", messages=messages,
                                                    stream=True):
            piece = chunk.choices[0].delta.content if chunk.choices else None
            if piece and result.first_content_s is None:
                result.first_content_s = time.perf_counter() - started
            content += piece or ""
            qa = (chunk.model_extra or {}).get("qa", qa)
    else:
        completion = client.chat.completions.create(model="qa", messages=messages)
        content, qa = completion.choices[0].message.content or "", completion.model_extra["qa"]
    result.seconds = time.perf_counter() - started
    result.standalone, result.status = qa["standalone_question"], qa["status"]
    result.sources = sorted({c["source"] for c in qa["citations"]})
    result.queue_ms, result.answer_ms = qa["timings"]["queue_ms"], qa["timings"]["total_ms"]
    return content


def _converse(number: int, base_url: str, start: threading.Barrier,
              doc_drugs: dict[str, str]) -> list[Result]:
    """One client: its three turns in order, each with the conversation so far."""
    from openai import OpenAI

    client = OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0, timeout=900)
    messages: list[dict[str, str]] = []
    results = []
    start.wait()
    for turn, (question, drug) in enumerate(CONVERSATIONS[number % len(CONVERSATIONS)]):
        result = Result(number, turn + 1, drug, question, streamed=number % 2 == 1)
        messages.append({"role": "user", "content": question})
        try:
            content = _ask(client, messages, result)
        except Exception as err:  # every failure is counted, none stops the run
            result.error = f"{type(err).__name__}: {err}"
            content = ""
        else:
            result.problems = judge(drug, result.standalone, result.sources, doc_drugs)
        messages.append({"role": "assistant", "content": content})
        results.append(result)
    return results


class CpuMeter:
    """CPU seconds used by every process between start() and stop(), from /proc."""

    def __init__(self) -> None:
        self.tick = os.sysconf("SC_CLK_TCK")
        self.before: dict[int, tuple[str, int]] = {}
        self.wall = 0.0

    @staticmethod
    def _snapshot() -> dict[int, tuple[str, int]]:
        out = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:90]
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            out[int(entry.name)] = (cmd.strip() or stat.split("(")[1].split(")")[0],
                                    int(fields[11]) + int(fields[12]))  # utime + stime
        return out

    def start(self) -> None:
        self.before, self.wall = self._snapshot(), time.monotonic()

    def stop(self, ours: set[int]) -> dict[str, Any]:
        """Our processes' CPU, the rest's, and the busiest other processes."""
        after, wall = self._snapshot(), time.monotonic() - self.wall
        used = {pid: (name, (ticks - self.before.get(pid, (name, 0))[1]) / self.tick)
                for pid, (name, ticks) in after.items()}
        mine = sum(s for pid, (_, s) in used.items() if pid in ours)
        others = sorted(((s, name) for pid, (name, s) in used.items()
                         if pid not in ours and s > 0.5), reverse=True)
        cores = len(os.sched_getaffinity(0))
        return {"wall_s": round(wall, 1), "cores": cores, "ours_cpu_s": round(mine, 1),
                "others_cpu_s": round(sum(s for s, _ in others), 1),
                "others_share_of_cpu": round(sum(s for s, _ in others) / (wall * cores), 3),
                "busiest_others": [{"cpu_s": round(s, 1), "command": n} for s, n in others[:3]],
                "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}


def _start_server(ctx: BenchContext, index_dir: Path, port: int,
                  clients: int, **env_extra: str) -> subprocess.Popen[str]:
    """`qa serve` as users start it, with room in its queue for every client."""
    env = {**os.environ, "QA_SERVER__MAX_QUEUE": str(max(ctx.settings.server.max_queue,
                                                          clients)), **env_extra}
    proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "serve", "--index",
                             str(index_dir), "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise QAError(f"qa serve exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return proc
        except OSError:
            time.sleep(1)
    proc.terminate()
    raise QAError("qa serve did not come up within 600 s")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_clients(clients: int, base_url: str, doc_drugs: dict[str, str]) -> list[Result]:
    start = threading.Barrier(clients)
    found: list[list[Result]] = [[] for _ in range(clients)]

    def client(i: int) -> None:
        found[i] = _converse(i, base_url, start, doc_drugs)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for rs in found for r in rs]


def run(ctx: BenchContext) -> BenchReport:
    """Index the corpus, start `qa serve`, run the clients, judge and time the answers."""
    try:
        import openai  # noqa: F401  (checked here, used by each client thread)
    except ImportError as err:
        raise DependencyError("the openai package is not installed (a dev extra)",
                              hint="pip install -e '.[dev]'") from err
    clients = min(ctx.limit or 10, 10)
    index_dir = ctx.index_root / "concurrency"
    ingest(ctx.settings.corpus_dir, index_dir, ctx.get_embedder(), ctx.settings.chunking,
           store_cfg=ctx.settings.store)
    doc_drugs = documents_by_drug(index_dir)
    port = _free_port()
    server = _start_server(ctx, index_dir, port, clients)
    meter = CpuMeter()
    try:
        meter.start()
        started = time.monotonic()
        results = _run_clients(clients, f"http://127.0.0.1:{port}", doc_drugs)
        wall = time.monotonic() - started
        cpu = meter.stop({os.getpid(), server.pid})
    finally:
        server.terminate()
        server.wait(timeout=60)
    report = _report(ctx, clients, results, wall, cpu)
    _add_sweep(ctx, index_dir, report)
    return report


SERVING = {"one answer at a time (llm.parallel=1)": 1,
           "parallel sequences (llm.parallel=4)": 4,
           "parallel sequences (llm.parallel=8)": 8}


def _add_sweep(ctx: BenchContext, index_dir: Path, report: BenchReport) -> None:
    """1, 2, 4 and 8 clients at once against each way of serving, one server each."""
    from qa.benchmarks import concurrency_sweep as sweep

    found: dict[str, dict[str, Any]] = {}
    for name, parallel in SERVING.items():
        port = _free_port()
        server = _start_server(ctx, index_dir, port, max(sweep.LEVELS),
                               QA_LLM__PARALLEL=str(parallel))
        try:
            found[name] = sweep.sweep(f"http://127.0.0.1:{port}")
        finally:
            server.terminate()
            server.wait(timeout=60)
    shipped = next((name for name, n in SERVING.items() if n == ctx.settings.llm.parallel),
                   next(iter(SERVING)))
    target = sweep.against_target(found, shipped)  # judged on the serving that ships
    report.metrics["sweep"] = {name: f["levels"] for name, f in found.items()}
    report.metrics["sweep_target"] = target
    report.details["sweep_requests"] = {name: f["requests"] for name, f in found.items()}
    report.markdown += "\n\n## 1, 2, 4 and 8 questions at once\n\n" + sweep.render(found, target)


def _summary(values: list[float]) -> dict[str, float | None]:
    return {"p50": percentile(values, 50, 2), "p95": percentile(values, 95, 2),
            "max": round(max(values), 2) if values else None}


def _metrics(results: list[Result], wall: float) -> dict[str, Any]:
    ok = [r for r in results if r.error is None]
    return {
        "requests": len(results), "errors": len(results) - len(ok),
        "not_about_their_question": sum(bool(r.problems) for r in ok),
        "refused": sum(r.status == "insufficient_evidence" for r in ok),
        "latency_s": _summary([r.seconds for r in ok]),
        "queue_s": _summary([(r.queue_ms or 0) / 1000 for r in ok]),
        "answer_s": _summary([(r.answer_ms or 0) / 1000 for r in ok]),
        "first_content_s_streamed": _summary(
            [r.first_content_s for r in ok if r.first_content_s is not None]),
        "wall_s": round(wall, 1),
        "answers_per_minute": round(len(ok) / wall * 60, 2) if wall else None,
    }


def _report(ctx: BenchContext, clients: int, results: list[Result], wall: float,
            cpu: dict[str, Any]) -> BenchReport:
    metrics = {**_metrics(results, wall), "clients": clients, "cpu": cpu}
    rows = [{"what": name, **metrics[key]} for name, key in (
        ("end to end", "latency_s"), ("waiting in the queue", "queue_s"),
        ("answering (server)", "answer_s"),
        ("first content (streamed, incl. queue)", "first_content_s_streamed"))]
    shared = cpu["others_share_of_cpu"]
    busy = "; ".join(f"{o['command']} ({o['cpu_s']} CPU s)" for o in cpu["busiest_others"])
    markdown = "\n".join([
        f"{clients} concurrent `openai` clients x 3 questions (a conversation each, "
        f"{sum(r.streamed for r in results) // 3} of them streamed) against one `qa serve` "
        f"(one model; up to llm.parallel = {ctx.settings.llm.parallel} answers decoded "
        "together, the others queued in arrival order).", "",
        f"**{metrics['errors']} errors** in {metrics['requests']} requests; "
        f"**{metrics['not_about_their_question']}** answers not about their own question; "
        f"{metrics['refused']} refused (the documents did not hold a verified answer).", "",
        table(rows, ["what", "p50", "p95", "max"]) + "\n\n(seconds)", "",
        f"{metrics['answers_per_minute']} answers per minute over {metrics['wall_s']} s.", "",
        ("**Other work shared the CPU**: " if shared > 0.05 else "CPU: ")
        + f"{cpu['cores']} cores; other processes used {cpu['others_cpu_s']} CPU s during "
        f"the run ({shared:.0%} of the machine)" + (f": {busy}." if busy else "."), "",
        "Problems: " + ("; ".join(f"client {r.client} turn {r.turn}: "
                                   + (r.error or "; ".join(r.problems))
                                   for r in results if r.error or r.problems) or "none."),
    ])
    plot = Plot("latency (s)", {f"{row['what']} {q}": row[q] or 0.0 for row in rows[:3]
                                for q in ("p50", "p95")}, ylabel="seconds")
    return BenchReport(
        suite="concurrency", metrics=metrics,
        settings=ctx.settings.model_dump(mode="json", exclude={"api_key"}),
        models=ctx.models(with_llm=True), limit=ctx.limit, markdown=markdown, plots=[plot],
        details={"results": [asdict(r) for r in results]})
