"""The default label set; the definitions are the ones in DESIGN.md and the model card."""

DEFAULT_LABELS = ("recruitment", "propaganda")

DEFINITIONS = {
    "recruitment": "invites or urges people to join, travel to, fund or otherwise materially support a terrorist "
                   "or violent extremist group or its attacks",
    "propaganda": "promotes, glorifies or justifies a terrorist or violent extremist group, its leaders or its "
                  "attacks, or spreads its official media",
}

NOT_FLAGGED = ("news reporting", "research and analysis", "counter-speech and condemnation",
               "quoting in order to criticise", "ordinary religious or political speech",
               "fiction and games without endorsement")
