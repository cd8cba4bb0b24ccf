"""Vigil's classifiers: model loading and batched inference, the default model, training, the classify stage."""
