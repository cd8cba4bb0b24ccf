"""Counter-speech augmentation: the violating texts of the training data, quoted or referred to inside a
condemnation, become negatives; plus negated statements of hostility. Classifiers trained only on
violating versus ordinary text learn to flag the words, so they flag the people who quote and argue
against them (published hate-speech models fail HateCheck's counter-speech tests 67-85% of the time).
These frames teach the difference. Written for Vigil; none comes from an evaluation set.
"""
from __future__ import annotations

import random

from classifiers.training.examples import Example

QUOTE_FRAMES = [
    'Someone wrote "{q}" and I find that disgusting.',
    'Posts like "{q}" are exactly the hate we have to stand up against.',
    '"{q}" - this is what hatred sounds like, and it is wrong.',
    'I am sick of reading things like "{q}". Nobody deserves that.',
    'Our moderators removed a post that said "{q}", because it attacks people.',
    'When you read "{q}", remember that real people are hurt by these words.',
    'It is shameful that anyone would say "{q}".',
    'A user replied "{q}". Reported, and I hope the account is banned.',
]
REFERENCE_FRAMES = [
    "Claiming that {r} is simply bigotry.",
    "People who say that {r} should be ashamed of themselves.",
    "The idea that {r} is a lie spread to make us hate each other.",
    "Anyone who thinks that {r} needs to meet the people they talk about.",
    "You have to stop pretending that {r}.",
    "If you really believe that {r}, you are the problem.",
    "I keep hearing that {r}, and it is hateful nonsense every time.",
    "Telling people that {r} only spreads fear.",
]
NEGATED = [
    "I don't hate {g}.", "{G} are not a threat to anyone.", "I would never say that {g} are worthless.",
    "{G} are not the problem in this country.", "There is nothing wrong with {g}.",
    "No, {g} do not deserve to be attacked.", "It is not true that {g} are dangerous.",
    "I have never felt any hatred towards {g}.", "{G} are not disgusting or inferior.",
    "I don't think {g} should be thrown out.", "{G} are not vermin, they are our neighbours.",
    "Nobody should want {g} to suffer.", "I refuse to see {g} as the enemy.",
    "{G} are not criminals.", "We should never treat {g} as less than human.",
    "I do not despise {g} at all.",
]
GROUPS = ["refugees", "Jews", "Muslims", "black people", "immigrants", "gay people", "women", "Roma",
          "disabled people", "trans people"]


def counter_speech(examples: list[Example], labels: list[str], seed: int, share: float = 0.6) -> list[Example]:
    """Negatives built from a share of the positive examples, each in a quoting or referring frame,
    plus negated statements about groups. Each keeps the group of the text it came from (so a text
    and its frames stay on one side of the train/validation split)."""
    rng = random.Random(seed)
    positives = [e for e in examples if e.labels & set(labels)]
    made = []
    for e in rng.sample(positives, int(len(positives) * share)):
        text = e.text.strip().rstrip(".!?")
        if rng.random() < 0.5:
            made.append(Example(rng.choice(QUOTE_FRAMES).format(q=text), frozenset(), e.group, "counter_quote", e.lang))
        else:
            referred = text[0].lower() + text[1:] if text[:2] != text[:2].upper() else text
            made.append(Example(rng.choice(REFERENCE_FRAMES).format(r=referred), frozenset(), e.group,
                                "counter_reference", e.lang))
    for n, template in enumerate(NEGATED):
        for group in GROUPS:
            made.append(Example(template.format(g=group, G=group[0].upper() + group[1:]), frozenset(),
                                f"negated-{n}", "negation", "en"))
    return made
