"""Step 1 of the static-vectors experiment: every WordPiece token of all-MiniLM-L6-v2 through
the transformer once, as "[CLS] token [SEP]"; keeps the token position's hidden states of all
layers (float16) in build/static_vectors/states.npy (vocab x 7 x 384) and the mean over the three
positions in means.npy. Needs the embeddings extra (torch, transformers)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np


def main(out: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from parley.nlu.encoder_graph import model_folder

    torch.set_num_threads(1)
    source = str(model_folder())
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModel.from_pretrained(source).eval()
    vocab = tokenizer.vocab_size
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    states = np.zeros((vocab, 7, 384), np.float16)
    means = np.zeros((vocab, 7, 384), np.float16)
    started = time.perf_counter()
    batch = 1024
    with torch.inference_mode():
        for start in range(0, vocab, batch):
            ids = torch.arange(start, min(vocab, start + batch))
            input_ids = torch.stack(
                [torch.full_like(ids, cls), ids, torch.full_like(ids, sep)], dim=1
            )
            result = model(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                token_type_ids=torch.zeros_like(input_ids),
                output_hidden_states=True,
            )
            hidden = torch.stack(result.hidden_states, dim=1)  # batch x 7 x 3 x 384
            states[start : start + len(ids)] = hidden[:, :, 1].numpy()
            means[start : start + len(ids)] = hidden.mean(dim=2).numpy()
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "states.npy", states)
    np.save(out / "means.npy", means)
    print(f"{vocab} tokens in {time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/static_vectors"))
