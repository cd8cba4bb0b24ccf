"""The train/validation split: whole groups held out, every slice validated, about the share asked for."""
from classifiers.training.examples import Example, split

KINDS = ("news", "religious", "chit_chat", "official_media", "commentary", "other", "hate", "threat")


def accounts(n: int) -> list[Example]:
    """n accounts, each posting one tweet of every kind, as the annotated Fifth Tribe accounts do."""
    return [Example(f"account {a} {kind}", frozenset({"propaganda"} if kind == "official_media" else ()),
                    f"fifth-tribe:{a}", kind) for a in range(n) for kind in KINDS]


def test_accounts_with_many_kinds_are_held_out_at_the_share_not_once_per_kind():
    train, validation = split(accounts(100), 0.2, seed=13)
    held_out = {e.group for e in validation}
    assert 18 <= len(held_out) <= 22  # was 84: a fifth per kind, eight kinds over
    assert not held_out & {e.group for e in train}
    assert {e.slice for e in validation} == set(KINDS)


def test_a_slice_of_its_own_groups_still_gets_its_share():
    examples = accounts(50) + [Example(f"template {t} variant {v}", frozenset(), f"seed-{t}", "research")
                               for t in range(10) for v in range(3)]
    _, validation = split(examples, 0.2, seed=7)
    assert len({e.group for e in validation if e.slice == "research"}) == 2


def test_validation_drops_texts_also_in_training():
    examples = [Example("the same words", frozenset(), "a", "news"),
                Example("The  same words", frozenset(), "b", "news"),
                Example("other words", frozenset(), "c", "news")]
    train, validation = split(examples, 0.5, seed=1)
    seen = {" ".join(e.text.lower().split()) for e in train}
    assert all(" ".join(e.text.lower().split()) not in seen for e in validation)
