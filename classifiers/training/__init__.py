"""Training and evaluation: examples and datasets, the contrastive checks, the default recipe, training a
head, evaluation with its report, calibration and thresholds, reviewed items as training data. Inference
(classifiers/) never imports this package."""
