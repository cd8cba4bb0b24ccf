"""Running the frozen part of an encoder once over every training text (the expensive step of training)."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import torch


@dataclass
class Features:
    """What the frozen part of the encoder produces for each length-sorted batch: the input of the
    top layer (hidden states and the attention mask as the model built it), or [CLS] states."""
    batches: list[tuple[list[int], torch.Tensor, object]]


def embed(encoder, tokenizer, texts: list[str], max_length: int, train_layers: int, batch_size: int = 32) -> Features:
    """Run the frozen encoder once, keeping the input of the first trainable layer (or the [CLS]
    output when only the head trains). Length-sorted batches; progress on stderr."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    captured = {}
    hook = None
    if train_layers:
        first = encoder.encoder.layer[-train_layers]

        def keep_inputs(module, args, kwargs):
            captured["hidden"] = args[0] if args else kwargs["hidden_states"]
            captured["mask"] = args[1] if len(args) > 1 else kwargs.get("attention_mask")
        hook = first.register_forward_pre_hook(keep_inputs, with_kwargs=True)
    batches = []
    started = time.monotonic()
    try:
        with torch.no_grad():  # not inference_mode: the kept tensors feed layers that train
            for n, start in enumerate(range(0, len(order), batch_size)):
                idx = order[start:start + batch_size]
                encoded = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length,
                                    return_tensors="pt")
                output = encoder(**encoded).last_hidden_state
                if train_layers:
                    mask = captured["mask"]
                    batches.append((idx, captured["hidden"].clone(), mask.clone() if mask is not None else None))
                else:
                    batches.append((idx, output[:, 0].clone(), None))
                done = min(start + batch_size, len(texts))
                if n % 10 == 0 or done == len(texts):
                    rate = done / max(1e-9, time.monotonic() - started)
                    print(f"\r  embedding {done}/{len(texts)} texts ({rate:.0f}/s)", end="", file=sys.stderr,
                          flush=True)
    finally:
        if hook is not None:
            hook.remove()
    print(file=sys.stderr)
    return Features(batches)
