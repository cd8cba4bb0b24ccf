"""Vigil's classifiers: model loading and batched inference, runtimes, thresholds, the model selection, the
default model and the classify stage. Training and evaluation live in classifiers.training."""
