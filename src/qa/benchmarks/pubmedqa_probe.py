"""PubMedQA PQA-L decided by a linear probe of the model's own hidden state.

Issue 10 allows "a small combiner fitted on dev with cross-validation" for the
reasoning-required setting (the model sees the instance's own abstract). The 1.5B model's
word after "Answer:" says "yes" to 84% of test questions (``pubmedqa.py``), yet its hidden
state at that point holds more than the three label scores read from it. Here:

* one forward pass per question, nothing generated: the prompt of
  ``prompts/pubmedqa_direct.txt`` in the chat format, the assistant turn opened with
  "Answer:"; the features are the last token's output of one transformer layer
  (``qa.llama_context.LayerStates``);
* a multinomial logistic regression (scikit-learn; standardised features, L2 penalty)
  maps them to yes / no / maybe.

``qa bench pubmedqa-probe --split dev`` reads the 500 dev questions, chooses the layer and
the penalty by repeated 5-fold cross-validation, reports the *nested* cross-validated
accuracy (the choice made again inside each outer fold, so the figure is not the winner
of its own search), and writes the probe fitted on all dev questions to PROBE_PATH.
``qa bench pubmedqa-probe`` scores the 500 test questions with that file and nothing else
learnt from them.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.benchmarks.data import PubMedRow, load_pubmedqa
from qa.benchmarks.metrics import accuracy, macro_f1
from qa.benchmarks.pubmedqa import LABELS, SYSTEM, anchor_lines, anchor_rows
from qa.benchmarks.report import BenchReport, Plot, table
from qa.benchmarks.runner import BenchContext
from qa.errors import ConfigError
from qa.llm import ChatMLFormat, ChatPrompt
from qa.prompts import load_prompts

PROBE_PATH = Path("eval/pubmedqa-probe.json")  # written by the dev run, read by the test run
PREFILL = "Answer:"  # the assistant turn so far: the label would be the next word
LAYERS = tuple(range(14, 28, 2))  # candidate layers (of 28 in the 1.5B model, 24 in the 0.5B)
PENALTIES = (0.0003, 0.001, 0.003, 0.01)  # candidate C (inverse L2) on standardised states
FOLDS, REPEATS = 5, 2
MAX_CHARS = 6000  # an abstract longer than this is cut (none of PQA-L's is: longest ~4,200)


@dataclass(frozen=True)
class Probe:
    """A fitted probe: standardise one layer's state, then a linear map to the labels."""

    layer: int
    penalty: float
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # labels x width
    intercept: np.ndarray  # labels

    def probabilities(self, states: np.ndarray) -> np.ndarray:
        """(questions x labels) probabilities from (questions x layers x width) states."""
        z = (states[:, self.layer] - self.mean) / self.scale @ self.coef.T + self.intercept
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def decide(self, states: np.ndarray) -> list[str]:
        return [LABELS[i] for i in self.probabilities(states).argmax(axis=1)]

    def to_json(self) -> dict[str, Any]:
        def floats(a: np.ndarray) -> Any:
            return np.round(a.astype(np.float64), 6).tolist()

        return {"labels": list(LABELS), "layer": self.layer, "penalty": self.penalty,
                "mean": floats(self.mean), "scale": floats(self.scale),
                "coef": floats(self.coef), "intercept": floats(self.intercept)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Probe:
        if tuple(data["labels"]) != LABELS:
            raise ValueError(f"probe labels {data['labels']} are not {list(LABELS)}")
        return cls(layer=int(data["layer"]), penalty=float(data["penalty"]),
                   **{k: np.asarray(data[k], dtype=np.float64)
                      for k in ("mean", "scale", "coef", "intercept")})


def fit(states: np.ndarray, gold: list[str], layer: int, penalty: float) -> Probe:
    """The probe of ``layer`` fitted on these questions."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = states[:, layer].astype(np.float64)
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=penalty, max_iter=5000)
    model.fit(scaler.transform(x), [LABELS.index(g) for g in gold])
    coef = np.zeros((len(LABELS), x.shape[1]))
    intercept = np.full(len(LABELS), -1e9)  # a label never seen in training is never chosen
    if len(model.classes_) == 2:  # scikit-learn keeps one row for two classes
        coef[model.classes_[1]], intercept[model.classes_[1]] = model.coef_[0], model.intercept_[0]
        intercept[model.classes_[0]] = 0.0
    else:
        coef[model.classes_], intercept[model.classes_] = model.coef_, model.intercept_
    return Probe(layer=layer, penalty=penalty, mean=scaler.mean_, scale=scaler.scale_,
                 coef=coef, intercept=intercept)


def _splits(gold: list[str], folds: int, repeats: int, seed: int) -> list[tuple[Any, Any]]:
    from sklearn.model_selection import RepeatedStratifiedKFold

    y = np.array(gold)
    return list(RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats,
                                        random_state=seed).split(y, y))


def grid(states: np.ndarray, gold: list[str], seed: int = 0) -> dict[tuple[int, float], float]:
    """Cross-validated accuracy of every (layer, penalty) candidate on these questions.

    BLAS runs on one thread: these fits are small (400 x 1,536), and a multi-threaded BLAS
    beside llama.cpp's threads made each take 6-12 s instead of 0.1 s."""
    from threadpoolctl import threadpool_limits

    splits = _splits(gold, FOLDS, REPEATS, seed)
    scores: dict[tuple[int, float], float] = {}
    with threadpool_limits(limits=1):
        for layer in (layer for layer in LAYERS if layer < states.shape[1]):
            for penalty in PENALTIES:
                right = 0
                for train, held in splits:
                    probe = fit(states[train], [gold[i] for i in train], layer, penalty)
                    right += sum(p == gold[i] for p, i in zip(probe.decide(states[held]), held,
                                                              strict=True))
                scores[layer, penalty] = right / (len(gold) * REPEATS)
    return scores


def choose(scores: dict[tuple[int, float], float]) -> tuple[int, float]:
    """The best candidate; ties go to the stronger penalty, then the earlier layer."""
    return max(scores, key=lambda k: (round(scores[k], 6), -k[1], -k[0]))


def nested(states: np.ndarray, gold: list[str]) -> float:
    """Accuracy when each outer fold's probe is chosen and fitted on the other folds only."""
    right = 0
    for train, held in _splits(gold, FOLDS, 1, seed=1):
        inner_gold = [gold[i] for i in train]
        layer, penalty = choose(grid(states[train], inner_gold))
        probe = fit(states[train], inner_gold, layer, penalty)
        right += sum(p == gold[i] for p, i in zip(probe.decide(states[held]), held, strict=True))
    return right / max(1, len(gold))


def read_states(ctx: BenchContext,
                rows: list[PubMedRow]) -> tuple[np.ndarray, list[dict[str, float]], float]:
    """Every layer's last-token state for each question's prompt, the label log-probabilities
    of the next word there, and the seconds per question."""
    from tqdm import tqdm

    from qa.llama_context import LayerStates, label_logprobs
    from qa.models import resolve_llm

    _, path = resolve_llm(ctx.settings.llm.model, ctx.settings.cache_dir)
    reader = LayerStates(path, ctx.settings.llm)
    prompts = load_prompts(ctx.settings.prompts_dir)
    labels = {label: reader.llama.label_tokens(label) for label in LABELS}
    states, logprobs = [], []
    start = time.perf_counter()
    for row in tqdm(rows, desc="pubmedqa-probe", unit="q", disable=not ctx.progress):
        user = prompts.render("pubmedqa_direct.txt", context=" ".join(row.contexts)[:MAX_CHARS],
                              question=row.question)
        tokens = reader.llama.tokenize(ChatMLFormat.render(ChatPrompt(SYSTEM, user)) + PREFILL)
        layer_states, logits = reader.read(tokens)
        states.append(layer_states.astype(np.float32))
        logprobs.append(label_logprobs(logits, labels))
    seconds = (time.perf_counter() - start) / max(1, len(rows))
    return np.stack(states), logprobs, seconds


def _scored(gold: list[str], pred: list[str]) -> dict[str, Any]:
    return {"n": len(gold), "accuracy": accuracy(gold, pred),
            "macro_f1": macro_f1(gold, pred, LABELS), "predicted": dict(Counter(pred))}


def run(ctx: BenchContext, probe_path: Path = PROBE_PATH) -> BenchReport:
    """Dev: choose, cross-validate and write the probe. Test: score it (``--limit`` caps n)."""
    probe: Probe | None = None
    if ctx.split != "dev":
        if not probe_path.is_file():
            raise ConfigError(f"no PubMedQA probe at {probe_path}",
                              hint="Fit one first: qa bench pubmedqa-probe --split dev.")
        probe = Probe.from_json(json.loads(probe_path.read_text()))
    rows = [r for r in load_pubmedqa(ctx.data_dir) if r.split == ctx.split][: ctx.limit]
    gold = [r.final_decision for r in rows]
    states, logprobs, seconds = read_states(ctx, rows)
    direct = [max(LABELS, key=lp.__getitem__) for lp in logprobs]
    metrics: dict[str, Any] = {"split": ctx.split, "n": len(rows), "seconds_per_q": seconds,
                               "direct": _scored(gold, direct)}
    if probe is None:
        scores = grid(states, gold)
        layer, penalty = choose(scores)
        probe = fit(states, gold, layer, penalty)
        probe_path.parent.mkdir(parents=True, exist_ok=True)
        probe_path.write_text(json.dumps(probe.to_json()) + "\n")
        metrics["selection"] = [{"layer": k[0], "penalty": k[1], "cv_accuracy": v}
                                for k, v in scores.items()]
        metrics["chosen"] = {"layer": layer, "penalty": penalty,
                             "cv_accuracy": scores[layer, penalty]}
        metrics["nested_cv_accuracy"] = nested(states, gold)
        metrics["probe_file"] = str(probe_path)
        pred = probe.decide(states)  # on the questions it was fitted on: not a result
        metrics["fitted_on_itself"] = _scored(gold, pred)
    else:
        pred = probe.decide(states)
        metrics["probe"] = {**_scored(gold, pred), "layer": probe.layer,
                            "penalty": probe.penalty, "probe_file": str(probe_path)}
    details = [{"id": r.id, "gold": g, "probe": p, "direct": d, "direct_logprobs": lp}
               for r, g, p, d, lp in zip(rows, gold, pred, direct, logprobs, strict=True)]
    return BenchReport(suite="pubmedqa-probe", metrics=metrics, settings={
        **ctx.settings_dump(), "layers": list(LAYERS), "penalties": list(PENALTIES),
        "folds": FOLDS, "repeats": REPEATS}, models=ctx.models(True), limit=ctx.limit,
        markdown=render(metrics), plots=[_plot(metrics)], details={"questions": details})


def _plot(m: dict[str, Any]) -> Plot:
    values = {"label after \"Answer:\"": m["direct"]["accuracy"]}
    if "probe" in m:
        values["probe (fitted on dev)"] = m["probe"]["accuracy"]
    else:
        values["probe, nested CV"] = m["nested_cv_accuracy"]
    return Plot(f"PubMedQA PQA-L {m['split']}", values, "accuracy",
                anchor_lines())


def render(m: dict[str, Any]) -> str:
    rows = anchor_rows()
    rows.append({"system": "this model, label after \"Answer:\" (argmax, no probe)",
                 **m["direct"], "s/q": m["seconds_per_q"]})
    if "probe" in m:
        p = m["probe"]
        rows.append({"system": f"this model, probe of layer {p['layer']} (C={p['penalty']}, "
                     f"fitted on the 500 dev questions)", **p, "s/q": m["seconds_per_q"]})
    lines = [f"## Decisions (yes / no / maybe, {m['split']} split, n={m['n']})", "",
             table(rows, ["system", "n", "accuracy", "macro_f1", "predicted", "s/q"]), "",
             "Reasoning-required setting: the model sees the question's own abstract. The "
             "probe is a logistic regression over one layer's state at the last prompt token, "
             "fitted on the dev split only (see the module docstring of "
             "`qa.benchmarks.pubmedqa_probe`).", ""]
    if "selection" in m:
        best: dict[int, dict[str, Any]] = {}
        for s in m["selection"]:
            if s["layer"] not in best or s["cv_accuracy"] > best[s["layer"]]["cv_accuracy"]:
                best[s["layer"]] = s
        lines += [f"## Choosing the probe on dev ({FOLDS}-fold cross-validation, repeated "
                  f"{REPEATS}x; best penalty per layer)", "",
                  table(list(best.values()), ["layer", "penalty", "cv_accuracy"]), "",
                  f"Chosen: layer {m['chosen']['layer']}, C={m['chosen']['penalty']} "
                  f"(cross-validated {m['chosen']['cv_accuracy']:.3f}). **Nested "
                  f"cross-validated accuracy {m['nested_cv_accuracy']:.3f}** (layer and C "
                  f"chosen again inside each outer fold), against "
                  f"{m['direct']['accuracy']:.3f} for the label after \"Answer:\" on the same "
                  f"questions. Written to `{m['probe_file']}`.", ""]
    return "\n".join(lines)
