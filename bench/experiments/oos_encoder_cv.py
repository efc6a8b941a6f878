"""Can a sentence encoder tell HWU64's unknown intents from its known ones? (issue 15)

Same protocol as `oos_scores.py`, on HWU64's train split only: a seeded 75 % (or 50 %) of the
intents are known; four fifths of their train messages fit, the other fifth is in domain, every
train message of the other intents is out of scope. The default pipeline's prediction decides
right/wrong (so recall@1pt means the same as in the benchmark); each candidate score only ranks.

Candidates:
- `parley`: the shipped in-domain score (top + 0.3 margin + nearest static vector);
- `frozen-*`: all-MiniLM-L6-v2 as shipped (mean-pooled last layer): nearest training example
  (of any intent / of the predicted one), k-NN mean cosine, class-conditional Mahalanobis with a
  shared covariance;
- `tuned-*`: the same encoder fine-tuned on the fit messages (cross-entropy over a cosine head,
  optionally + supervised contrastive), then its softmax top, energy, k-NN, Mahalanobis;
- sums of rank-normalised scores.

`python bench/experiments/oos_encoder_cv.py [--seed 0] [--fraction 0.75] [--epochs 3]
[--supcon 0.0] [--train-layers 2]`; cached encodings in `$TMPDIR/parley-oos-cv/`. Torch and transformers (the
embeddings extra) needed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.nlu_bench import DATASETS, pipeline_components  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "parley-oos-cv"
MAX_TOKENS = 48


@dataclass
class Split:
    fit_texts: list[str]
    fit_labels: np.ndarray  # class index among the known intents
    held_texts: list[str]
    held_gold: list[str]
    known: np.ndarray  # held row belongs to a known intent
    labels: list[str]


def make_split(dataset: str, fraction: float, seed: int) -> Split:
    from parley.project.loader import load_nlu_data

    train = load_nlu_data([DATASETS / dataset / "train.yml"])
    intents = sorted({e.base_intent for e in train.examples})
    rng = np.random.default_rng(seed)
    known = {
        str(x) for x in rng.choice(intents, size=round(fraction * len(intents)), replace=False)
    }
    own = [e for e in train.examples if e.base_intent in known]
    order = rng.permutation(len(own))
    cut = len(own) // 5
    fit = [own[i] for i in order[cut:]]
    held = [own[i] for i in order[:cut]] + [e for e in train.examples if e.base_intent not in known]
    labels = sorted(known)
    index = {name: i for i, name in enumerate(labels)}
    return Split(
        [e.text for e in fit],
        np.array([index[e.base_intent] for e in fit]),
        [e.text for e in held],
        [e.base_intent for e in held],
        np.array([e.base_intent in known for e in held]),
        labels,
    )


def pipeline_scores(split: Split) -> dict[str, np.ndarray]:
    """The default pipeline trained on the fit messages: its prediction and the shipped scores."""
    from parley.nlu.component import message_features
    from parley.nlu.in_domain import margins, softmax
    from parley.nlu.pipeline import Pipeline
    from parley.nlu.static_vectors import shared_vectors
    from parley.project.config import ProjectConfig
    from parley.project.nlu_data import NLUData, NLUExample

    examples = tuple(
        NLUExample(text=t, intent=split.labels[y])
        for t, y in zip(split.fit_texts, split.fit_labels, strict=True)
    )
    config = ProjectConfig(pipeline=pipeline_components("default"))
    started = time.perf_counter()
    pipeline = Pipeline.train(config, NLUData(examples))
    seconds = time.perf_counter() - started
    classifier = next(c for c in pipeline.components if c.kind == "linear_intent")
    model = classifier.model  # type: ignore[attr-defined]
    table = shared_vectors()
    raw, parley, static = [], [], []
    for text in split.held_texts:
        message = pipeline.process(text)
        scores = model.scores(*message_features(message, classifier.sparse_size), message.static)
        raw.append(scores)
        vector = table.vector(text)
        static.append(vector)
        parley.append(model.scope.raw(scores, vector, model.temperature)[0])
    s = np.array(raw)
    order = [model.labels.index(name) for name in split.labels]
    s = s[:, order]  # columns in split.labels order
    return {
        "scores": s,
        "softmax": softmax(s, model.temperature).max(axis=1),
        "margin": margins(s),
        "parley": np.array(parley),
        "static": np.array(static),
        "fit_static": table.vectors(split.fit_texts),
        "train_seconds": np.array(seconds),
    }


def cached(name: str, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}.npz"
    if path.is_file():
        return dict(np.load(path))
    out = build()
    np.savez(path, **out)
    return out


# ---------------------------------------------------------------- the encoder (torch)


def load_encoder() -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    from parley.nlu.encoder_graph import model_folder

    folder = str(model_folder())
    model = AutoModel.from_pretrained(folder, attn_implementation="eager")
    return AutoTokenizer.from_pretrained(folder), model


def lower_states(
    tokenizer: Any, model: Any, texts: list[str], layer: int, batch: int = 128
) -> tuple[list[Any], np.ndarray]:
    """Each text's token states after encoder layer `layer` (unpadded), and the frozen
    encoder's mean-pooled last layer (one row per text)."""
    import torch

    model.eval()
    states, rows = [], []
    with torch.no_grad():
        for start in range(0, len(texts), batch):
            inputs = tokenizer(
                texts[start : start + batch],
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="pt",
            )
            out = model(**inputs, output_hidden_states=True)
            mask = inputs["attention_mask"]
            lengths = mask.sum(1).tolist()
            hidden = out.hidden_states[layer]
            states += [hidden[i, :n].clone() for i, n in enumerate(lengths)]
            m = mask.unsqueeze(-1).float()
            rows.append(((out.last_hidden_state * m).sum(1) / m.sum(1)).numpy())
    return states, np.vstack(rows).astype(np.float32)


def upper_pooled(model: Any, states: list[Any], layer: int) -> Any:
    """Run encoder layers `layer`.. over padded `states`; mean-pool the last layer."""
    import torch

    longest = max(len(s) for s in states)
    hidden = torch.zeros(len(states), longest, states[0].shape[-1])
    mask = torch.zeros(len(states), longest)
    for i, s in enumerate(states):
        hidden[i, : len(s)] = s
        mask[i, : len(s)] = 1.0
    additive = (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
    for block in model.encoder.layer[layer:]:
        hidden = block(hidden, additive)
        if isinstance(hidden, tuple):
            hidden = hidden[0]
    m = mask.unsqueeze(-1)
    return (hidden * m).sum(1) / m.sum(1)


def encode_upper(model: Any, states: list[Any], layer: int, batch: int = 256) -> np.ndarray:
    import torch

    model.eval()
    with torch.no_grad():
        rows = [
            upper_pooled(model, states[i : i + batch], layer).numpy()
            for i in range(0, len(states), batch)
        ]
    return np.vstack(rows).astype(np.float32)


@dataclass
class Tuned:
    fit: np.ndarray  # pooled vectors of the fit texts, tuned encoder
    held: np.ndarray
    head: np.ndarray  # class directions of the cosine head
    seconds: float  # fine-tuning only (lower states excluded)
    lower_seconds: float  # the frozen lower layers over fit + held texts


def fine_tune(
    split: Split, epochs: int, supcon: float, seed: int, train_layers: int, batch: int = 32
) -> Tuned:
    """Cross-entropy over a cosine head (scale 16) on the mean-pooled encoder, plus `supcon` x
    supervised contrastive loss (temperature 0.1) on the normalised features; only the top
    `train_layers` encoder layers learn (the lower ones run once, their states cached).
    AdamW, 5e-5 for the encoder, 1e-3 for the head, linear decay."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    tokenizer, model = load_encoder()
    layer = model.config.num_hidden_layers - train_layers
    started = time.perf_counter()
    fit_states, frozen = lower_states(tokenizer, model, split.fit_texts, layer)
    held_states, _ = lower_states(tokenizer, model, split.held_texts, layer)
    lower_seconds = time.perf_counter() - started
    for p in model.parameters():
        p.requires_grad = False
    trained = [p for block in model.encoder.layer[layer:] for p in block.parameters()]
    for p in trained:
        p.requires_grad = True
    y = split.fit_labels
    n_classes = len(split.labels)
    head = torch.nn.Parameter(
        F.normalize(torch.from_numpy(np.stack([frozen[y == c].mean(0) for c in range(n_classes)])))
    )
    optimiser = torch.optim.AdamW(
        [{"params": trained, "lr": 5e-5}, {"params": [head], "lr": 1e-3}], weight_decay=0.01
    )
    labels = torch.from_numpy(y)
    steps = epochs * ((len(y) + batch - 1) // batch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: max(0.0, 1 - s / steps))
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    model.train()
    for epoch in range(epochs):
        order = rng.permutation(len(y))
        total = 0.0
        for start in range(0, len(y), batch):
            rows = order[start : start + batch]
            features = F.normalize(upper_pooled(model, [fit_states[i] for i in rows], layer))
            logits = 16.0 * features @ F.normalize(head, dim=1).T
            target = labels[rows]
            loss = F.cross_entropy(logits, target)
            if supcon > 0:
                loss = loss + supcon * supervised_contrastive(features, target)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scheduler.step()
            total += float(loss.detach()) * len(rows)
        print(f"  epoch {epoch + 1}: loss {total / len(y):.4f}", flush=True)
    seconds = time.perf_counter() - started
    return Tuned(
        encode_upper(model, fit_states, layer),
        encode_upper(model, held_states, layer),
        head.detach().numpy(),
        seconds,
        lower_seconds,
    )


def supervised_contrastive(features: Any, target: Any, temperature: float = 0.1) -> Any:
    import torch

    sim = features @ features.T / temperature
    n = sim.shape[0]
    eye = torch.eye(n, dtype=torch.bool)
    same = (target[:, None] == target[None, :]) & ~eye
    sim = sim.masked_fill(eye, -1e9)
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    count = same.sum(1)
    has = count > 0
    if not has.any():
        return sim.sum() * 0.0
    mean = (log_prob * same).sum(1)[has] / count[has]
    return -mean.mean()


def unit(x: np.ndarray) -> np.ndarray:
    return np.asarray(x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9))


def knn_scores(
    fit: np.ndarray, y: np.ndarray, held: np.ndarray, predicted: np.ndarray, prefix: str
) -> dict[str, np.ndarray]:
    mean = fit.mean(axis=0)
    a, b = unit(fit - mean), unit(held - mean)
    sim = b @ a.T
    out = {
        f"{prefix} nearest any": sim.max(axis=1),
        f"{prefix} nearest predicted": np.array(
            [sim[i, y == p].max() for i, p in enumerate(predicted)]
        ),
    }
    for k in (5, 10):
        top = -np.sort(-sim, axis=1)[:, :k]
        out[f"{prefix} knn{k} mean"] = top.mean(axis=1)
    # class-conditional Mahalanobis, shared covariance (Ledoit-Wolf shrinkage)
    from sklearn.covariance import LedoitWolf

    classes = int(y.max()) + 1
    centroids = np.stack([a[y == c].mean(axis=0) for c in range(classes)])
    precision = LedoitWolf().fit(a - centroids[y]).precision_
    d = b[:, None, :] - centroids[None, :, :]
    maha = np.einsum("ncd,de,nce->nc", d, precision, d)
    out[f"{prefix} mahalanobis"] = -maha.min(axis=1)
    out[f"{prefix} centroid cos"] = (b @ unit(centroids).T).max(axis=1)
    return out


def rank(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.argsort(np.argsort(x)) / (len(x) - 1))


def recall_at_loss(known: np.ndarray, right: np.ndarray, z: np.ndarray, loss: float) -> float:
    """Out-of-scope recall at the highest threshold where in-domain accuracy (fallbacks wrong)
    drops at most `loss` (the benchmark's definition, over sorted scores)."""
    order = np.argsort(z, kind="stable")
    zs, k, r = z[order], known[order], right[order]
    base = r.sum() / known.sum()
    lost_right = np.cumsum(r)  # right known messages below threshold = first i rows
    caught = np.cumsum(~k)
    best = 0.0
    n = len(z)
    for i in range(1, n + 1):
        if i < n and zs[i] == zs[i - 1]:
            continue  # thresholds sit between distinct values
        if (r.sum() - lost_right[i - 1]) / known.sum() >= base - loss:
            best = max(best, caught[i - 1] / (~known).sum())
    return float(best)


def report(name: str, z: np.ndarray, known: np.ndarray, right: np.ndarray) -> dict[str, float]:
    row = {
        "auroc": round(float(roc_auc_score(known, z)), 4),
        "recall@1pt": round(recall_at_loss(known, right, z, 0.01), 4),
        "recall@2pt": round(recall_at_loss(known, right, z, 0.02), 4),
    }
    print(
        f"{name:44s} AUROC {row['auroc']:.4f}  @1pt {row['recall@1pt']:.4f}"
        f"  @2pt {row['recall@2pt']:.4f}",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="hwu64")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fraction", type=float, default=0.75)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--supcon", type=float, default=0.0)
    parser.add_argument("--train-layers", type=int, default=2)
    parser.add_argument("--no-tune", action="store_true")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    tag = f"{args.dataset}-{args.fraction}-{args.seed}"
    split = make_split(args.dataset, args.fraction, args.seed)
    base = cached(f"pipeline-{tag}", lambda: pipeline_scores(split))
    predicted = base["scores"].argmax(axis=1)
    known = split.known
    right = known & (np.array(split.labels)[predicted] == np.array(split.held_gold))
    print(
        f"{tag}: {len(split.fit_texts)} fit, {known.sum()} in, {(~known).sum()} out;"
        f" pipeline accuracy {right.sum() / known.sum():.4f}",
        flush=True,
    )
    candidates: dict[str, np.ndarray] = {
        "softmax top": base["softmax"],
        "margin": base["margin"],
        "parley (shipped)": base["parley"],
    }

    def frozen() -> dict[str, np.ndarray]:
        tokenizer, model = load_encoder()
        return {
            "fit": lower_states(tokenizer, model, split.fit_texts, 0)[1],
            "held": lower_states(tokenizer, model, split.held_texts, 0)[1],
        }

    enc = cached(f"frozen-{tag}", frozen)
    candidates |= knn_scores(enc["fit"], split.fit_labels, enc["held"], predicted, "frozen")
    if not args.no_tune:

        def tuned() -> dict[str, np.ndarray]:
            out = fine_tune(split, args.epochs, args.supcon, args.seed, args.train_layers)
            return {
                "fit": out.fit,
                "held": out.held,
                "head": out.head,
                "seconds": np.array(out.seconds),
                "lower_seconds": np.array(out.lower_seconds),
            }

        name = f"tuned-{tag}-e{args.epochs}-s{args.supcon}-l{args.train_layers}"
        t = cached(name, tuned)
        print(
            f"fine-tune {float(t['seconds']):.0f} s (+ lower layers once"
            f" {float(t['lower_seconds']):.0f} s)",
            flush=True,
        )
        logits = 16.0 * unit(t["held"]) @ unit(t["head"]).T
        tuned_pred = logits.argmax(axis=1)
        tuned_right = known & (np.array(split.labels)[tuned_pred] == np.array(split.held_gold))
        print(f"tuned head accuracy {tuned_right.sum() / known.sum():.4f}")
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        candidates["tuned softmax top"] = (e / e.sum(axis=1, keepdims=True)).max(axis=1)
        candidates["tuned energy"] = np.log(e.sum(axis=1)) + logits.max(axis=1)
        candidates["tuned max cosine to head"] = logits.max(axis=1) / 16.0
        candidates |= knn_scores(t["fit"], split.fit_labels, t["held"], predicted, "tuned")
        for a, b in (
            ("tuned knn10 mean", "parley (shipped)"),
            ("tuned mahalanobis", "parley (shipped)"),
            ("tuned nearest any", "softmax top"),
            ("tuned knn10 mean", "tuned mahalanobis"),
        ):
            candidates[f"rank {a} + {b}"] = rank(candidates[a]) + rank(candidates[b])
    rows = {name: report(name, z, known, right) for name, z in candidates.items()}
    if args.out:
        Path(args.out).write_text(json.dumps({"split": tag, "scores": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
