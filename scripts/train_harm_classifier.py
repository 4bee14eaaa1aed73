"""Train the request-harm classifier and write evaluators/data/harm_classifier.json.

    python scripts/train_harm_classifier.py [--data ../shared/data] [--check]

Harmful requests: JailbreakBench's 100 behaviours (goals) and its PAIR attack prompts (MIT), and the opening
human turns of Anthropic's HH-RLHF harmless-base test split (MIT), which are red-team attempts to elicit harm;
some openings are innocuous small talk, so they carry less weight. Benign requests: AlpacaEval instructions,
Arena-hard prompts, OpenAssistant prompter messages (all Apache-2.0) and the first user turn of tau-bench
airline conversations (MIT). XSTest is never read: it is the held-out validation
(benchmarks/refusal_evaluator_xstest.py).

The features are the rule layer's semantic features (evaluators/harm.py), not words: word-level models fitted
on these sources learn their styles (red-team chat vs. written instructions) and failed leave-one-source-out
checks. L2-regularised logistic regression fitted with L-BFGS, context features bounded to non-positive
weights by policy; the decision threshold maximises balanced accuracy on
out-of-fold predictions of a 5-fold cross-validation over the training data. Deterministic: folds come from a
hash of the text, and the artefact's numbers are rounded. --check retrains and compares with the committed
artefact instead of writing it.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import optimize, sparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluators.harm import ARTEFACT, NON_POSITIVE, features

SOURCES = {
    "jailbreakbench_goals": (
        "harmful",
        "JailbreakBench JBB-Behaviors goals (jailbreakbench_artifacts)",
        "MIT",
    ),
    "jailbreakbench_pair": (
        "harmful",
        "JailbreakBench PAIR attack prompts (jailbreakbench_artifacts)",
        "MIT",
    ),
    "hh_rlhf_red_team": ("harmful", "Anthropic HH-RLHF harmless-base test, first human turns", "MIT"),
    "alpaca_eval": ("benign", "AlpacaEval instructions", "Apache-2.0"),
    "arena_hard": ("benign", "Arena-hard v0.1 prompts", "Apache-2.0"),
    "oasst": (
        "benign",
        "OpenAssistant oasst1 English prompter messages (100 trees + 250 prompts)",
        "Apache-2.0",
    ),
    "tau_bench": ("benign", "tau-bench airline trajectories, first user turns", "MIT"),
}
# HH-RLHF red-team openings are sometimes small talk ("Hi", "What is square root of 48?").
SOURCE_WEIGHT = {"hh_rlhf_red_team": 0.5}
L2 = 1.0
FOLDS = 5
DECIMALS = 4


@dataclass(frozen=True)
class Example:
    text: str
    harmful: bool
    source: str


def load_examples(data: Path) -> list[Example]:
    texts: dict[str, list[str]] = {name: [] for name in SOURCES}
    jbb = data / "jailbreakbench_artifacts" / "attack-artifacts"
    for path in sorted(jbb.glob("*/*/*.json")):
        for jailbreak in json.loads(path.read_text()).get("jailbreaks", []):
            texts["jailbreakbench_goals"].append(jailbreak["goal"])
            if path.parts[-3] == "PAIR" and jailbreak.get("prompt"):
                texts["jailbreakbench_pair"].append(jailbreak["prompt"])
    with gzip.open(data / "hh_rlhf_harmless_test" / "harmless-base_test.jsonl.gz", "rt") as handle:
        for line in handle:
            first = json.loads(line)["chosen"].split("\n\nAssistant:")[0]
            texts["hh_rlhf_red_team"].append(first.replace("\n\nHuman:", "", 1))
    for path in sorted((data / "alpaca_eval" / "results").glob("*/model_outputs.json")):
        texts["alpaca_eval"] += [row["instruction"] for row in json.loads(path.read_text())]
    with (data / "arena_hard_v0.1" / "question.jsonl").open() as handle:
        texts["arena_hard"] += [json.loads(line)["prompt"] for line in handle]
    oasst = data / "oasst_en_100_trees"
    with (oasst / "prompt_lottery_en_250_text.jsonl").open() as handle:
        texts["oasst"] += [json.loads(line) for line in handle]
    with (oasst / "en_100_tree.jsonl").open() as handle:
        for line in handle:
            texts["oasst"] += _prompter_messages(json.loads(line)["prompt"])
    trajectories = json.loads(
        (data / "tau_bench" / "historical_trajectories" / "gpt-4o-airline.json").read_text()
    )
    for trajectory in trajectories:
        first = next(
            (m["content"] for m in trajectory["traj"] if m["role"] == "user" and m.get("content")), None
        )
        if first:
            texts["tau_bench"].append(first)
    return _deduplicate(texts)


def _prompter_messages(node: dict) -> list[str]:
    own = [node["text"]] if node["role"] == "prompter" else []
    return own + [text for reply in node.get("replies", []) for text in _prompter_messages(reply)]


def _deduplicate(texts: dict[str, list[str]]) -> list[Example]:
    labels: dict[str, set[bool]] = {}
    first_source: dict[str, str] = {}
    for source, items in texts.items():
        harmful = SOURCES[source][0] == "harmful"
        for text in items:
            key = " ".join(text.split()).lower()
            if not key:
                continue
            labels.setdefault(key, set()).add(harmful)
            first_source.setdefault(key, source)
    examples = []
    seen: set[str] = set()
    for source, items in texts.items():
        for text in items:
            key = " ".join(text.split()).lower()
            # A text in both classes teaches nothing; a repeated one would count twice.
            if key and key not in seen and len(labels[key]) == 1 and first_source[key] == source:
                seen.add(key)
                examples.append(
                    Example(text=text.strip(), harmful=SOURCES[source][0] == "harmful", source=source)
                )
    return examples


def sample_weights(examples: list[Example]) -> np.ndarray:
    """Each class weighs the same in total; noisy sources weigh less within their class."""
    raw = np.array([SOURCE_WEIGHT.get(e.source, 1.0) for e in examples])
    harmful = np.array([e.harmful for e in examples])
    weights = raw.copy()
    for value in (True, False):
        mask = harmful == value
        weights[mask] *= len(examples) / 2 / raw[mask].sum()
    return weights


def build_vocabulary(feature_sets: list[set[str]]) -> list[str]:
    return sorted({name for names in feature_sets for name in names})


def design_matrix(feature_sets: list[set[str]], vocabulary: list[str]) -> sparse.csr_matrix:
    index = {name: i for i, name in enumerate(vocabulary)}
    rows, cols = [], []
    for row, names in enumerate(feature_sets):
        for col in sorted(index[n] for n in names if n in index):
            rows.append(row)
            cols.append(col)
    data = np.ones(len(rows))
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(feature_sets), len(vocabulary)))


def fit(
    x: sparse.csr_matrix, y: np.ndarray, weights: np.ndarray, vocabulary: list[str]
) -> tuple[np.ndarray, float]:
    """Weighted logistic regression, L2 on the weights (not the bias); policy features kept non-positive."""
    total = weights.sum()

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        z = x @ w + b
        # log(1 + e^z) - y z, stably.
        nll = np.logaddexp(0.0, z) - y * z
        p = 0.5 * (1.0 + np.tanh(0.5 * z))
        residual = weights * (p - y) / total
        value = float(weights @ nll / total + 0.5 * L2 / total * w @ w)
        grad = np.append(x.T @ residual + L2 / total * w, residual.sum())
        return value, grad

    start = np.zeros(x.shape[1] + 1)
    bounds = [(None, 0.0) if name in NON_POSITIVE else (None, None) for name in vocabulary] + [(None, None)]
    result = optimize.minimize(
        loss, start, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000, "gtol": 1e-8}
    )
    return result.x[:-1], float(result.x[-1])


def _fold(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % FOLDS


def cross_validate(examples: list[Example], feature_sets: list[set[str]]) -> np.ndarray:
    """Out-of-fold P(harmful) for every example."""
    y = np.array([e.harmful for e in examples], dtype=float)
    folds = np.array([_fold(e.text) for e in examples])
    out = np.zeros(len(examples))
    for k in range(FOLDS):
        train = np.flatnonzero(folds != k)
        test = np.flatnonzero(folds == k)
        vocabulary = build_vocabulary([feature_sets[i] for i in train])
        x = design_matrix(feature_sets, vocabulary)
        w, b = fit(x[train], y[train], sample_weights([examples[i] for i in train]), vocabulary)
        out[test] = 1.0 / (1.0 + np.exp(-(x[test] @ w + b)))
    return out


def choose_threshold(examples: list[Example], probabilities: np.ndarray) -> float:
    """Maximise balanced accuracy (weighted as in training) on out-of-fold predictions."""
    y = np.array([e.harmful for e in examples])
    weights = sample_weights(examples)
    best, best_score = 0.5, -1.0
    for threshold in np.round(np.arange(0.05, 0.96, 0.01), 2):
        predicted = probabilities >= threshold
        recall = weights[y & predicted].sum() / weights[y].sum()
        specificity = weights[~y & ~predicted].sum() / weights[~y].sum()
        if (recall + specificity) / 2 > best_score:
            best, best_score = float(threshold), (recall + specificity) / 2
    return best


def report(
    examples: list[Example], probabilities: np.ndarray, threshold: float
) -> dict[str, dict[str, float]]:
    by_source: dict[str, dict[str, float]] = {}
    for source in SOURCES:
        mask = np.array([e.source == source for e in examples])
        harmful = SOURCES[source][0] == "harmful"
        flagged = probabilities[mask] >= threshold
        rate = float(flagged.mean()) if mask.any() else float("nan")
        by_source[source] = {
            "n": int(mask.sum()),
            "recall" if harmful else "false_positive_rate": round(rate, 3),
        }
    return by_source


def train(data: Path) -> dict:
    examples = load_examples(data)
    feature_sets = [features(e.text) for e in examples]
    oof = cross_validate(examples, feature_sets)
    threshold = choose_threshold(examples, oof)
    vocabulary = build_vocabulary(feature_sets)
    x = design_matrix(feature_sets, vocabulary)
    y = np.array([e.harmful for e in examples], dtype=float)
    w, b = fit(x, y, sample_weights(examples), vocabulary)
    weights = {name: round(float(v), DECIMALS) for name, v in zip(vocabulary, w, strict=True)}
    weights = {name: v for name, v in weights.items() if v != 0.0}
    body = {
        "threshold": threshold,
        "bias": round(b, DECIMALS),
        "weights": weights,
        "training": {
            "sources": {
                name: {
                    "label": label,
                    "what": what,
                    "licence": licence,
                    "n": sum(e.source == name for e in examples),
                }
                for name, (label, what, licence) in SOURCES.items()
            },
            "l2": L2,
            "cross_validation": {"folds": FOLDS, "by_source": report(examples, oof, threshold)},
            "script": "scripts/train_harm_classifier.py",
            "excluded": "XSTest (held-out validation)",
        },
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:8]
    return {"version": f"1.1.0+{digest}", **body}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument(
        "--check", action="store_true", help="compare with the committed artefact, write nothing"
    )
    args = parser.parse_args()
    artefact = train(args.data)
    text = json.dumps(artefact, indent=1, sort_keys=True) + "\n"
    for source, numbers in artefact["training"]["cross_validation"]["by_source"].items():
        print(f"{source:<22} {numbers}")
    print(
        f"threshold {artefact['threshold']}  features {len(artefact['weights'])}  "
        f"version {artefact['version']}"
    )
    if args.check:
        same = ARTEFACT.exists() and ARTEFACT.read_text() == text
        print("matches the committed artefact" if same else "DIFFERS from the committed artefact")
        raise SystemExit(0 if same else 1)
    ARTEFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTEFACT.write_text(text)
    print(f"wrote {ARTEFACT} ({len(text) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
