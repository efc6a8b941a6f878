"""Builds Parley's static word vectors (parley/nlu/data/) from all-MiniLM-L6-v2.

Every WordPiece token of the model's vocabulary goes through the transformer once, alone, as
"[CLS] token [SEP]". Its vector is the token position's state after the embedding layer and after
the last layer, each L2-normalised and concatenated, then reduced to 256 dimensions by PCA over
the vocabulary (model2vec-style distillation) and stored as int8 with one scale per token.
The choice of layers, size and precision was made by 5-fold cross-validation on HWU64's train
split (docs/nlu.md, bench/experiments/). Needs the embeddings extra (torch, transformers):

    .venv/bin/python tools/build_static_vectors.py
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "parley" / "nlu" / "data"
LAYERS = (6, 0)  # last transformer layer, embedding layer
DIMENSIONS = 256
FIRST_WORD = 1996  # ids below are [unused], special tokens and single characters: not in the PCA
BATCH = 1024


def token_states(source: str) -> np.ndarray:
    """vocabulary x len(LAYERS) x 384: each token's hidden states in `LAYERS`."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(1)  # reproducible sums
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModel.from_pretrained(source).eval()
    size = tokenizer.vocab_size
    states = np.zeros((size, len(LAYERS), model.config.hidden_size), np.float32)
    with torch.inference_mode():
        for start in range(0, size, BATCH):
            ids = torch.arange(start, min(size, start + BATCH))
            input_ids = torch.stack(
                [
                    torch.full_like(ids, tokenizer.cls_token_id),
                    ids,
                    torch.full_like(ids, tokenizer.sep_token_id),
                ],
                dim=1,
            )
            hidden = model(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                token_type_ids=torch.zeros_like(input_ids),
                output_hidden_states=True,
            ).hidden_states
            for n, layer in enumerate(LAYERS):
                states[start : start + len(ids), n] = hidden[layer][:, 1].numpy()
    return states


def reduce(states: np.ndarray) -> np.ndarray:
    blocks = [
        s / np.linalg.norm(s, axis=1, keepdims=True).clip(1e-9) for s in states.transpose(1, 0, 2)
    ]
    table = np.concatenate(blocks, axis=1).astype(np.float64)
    table -= table.mean(axis=0)
    _, _, components = np.linalg.svd(table[FIRST_WORD:], full_matrices=False)
    return np.asarray(table @ components[:DIMENSIONS].T, np.float32)


def quantise(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scales = (np.abs(table).max(axis=1) / 127.0).clip(1e-9).astype(np.float32)
    return np.round(table / scales[:, None]).astype(np.int8), scales


def main() -> None:
    from parley.nlu.encoder_graph import model_folder

    started = time.perf_counter()
    source = model_folder()
    table, scales = quantise(reduce(token_states(str(source))))
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(OUT / "static_vectors.npy", table)
    np.save(OUT / "static_vector_scales.npy", scales)
    shutil.copyfile(source / "vocab.txt", OUT / "wordpiece_vocab.txt")
    print(f"{table.shape} in {time.perf_counter() - started:.1f} s -> {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
