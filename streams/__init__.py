"""Vigil's backbone, which the stages stand on: settings, the message contract, transports, the stage runner,
dead letters, metrics, stores and the index stage. It imports nothing of crawlers/, classifiers/ or vigil/."""
