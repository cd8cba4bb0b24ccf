"""Labelled examples, and how they are split so that validation sees groups it was not trained on."""
from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    text: str
    labels: frozenset[str]
    group: str  # examples of one group never straddle a train/validation split
    slice: str = ""  # e.g. a hard-negative slice: counter_quote_nh, news, negation
    lang: str = "en"


def split(examples: list[Example], validation_share: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Hold out a share of the groups of every slice (so each slice is validated on groups it was not
    trained on), then drop validation texts that also occur in training (de-duplication). A group held out
    for one slice counts towards every slice it has examples in: an account posts news, verses and chit-chat,
    and holding out a fifth of the accounts of each kind separately would hold out most accounts."""
    rng = random.Random(seed)
    held_out = set()
    for slice_name in sorted({e.slice for e in examples}):
        groups = sorted({e.group for e in examples if e.slice == slice_name})
        rng.shuffle(groups)
        if len(groups) > 1:
            wanted = max(1, round(len(groups) * validation_share)) - sum(g in held_out for g in groups)
            held_out.update([g for g in groups if g not in held_out][:max(0, wanted)])
    train = [e for e in examples if e.group not in held_out]
    seen = {" ".join(e.text.lower().split()) for e in train}
    validation = [e for e in examples if e.group in held_out and " ".join(e.text.lower().split()) not in seen]
    return train, validation
