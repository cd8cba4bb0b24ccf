"""The first thresholds of a trained model: best F1 on validation, fine steps where confident models put it."""
import numpy as np

from classifiers.training.fit import pick_thresholds


def test_the_best_f1_above_0_9_is_found_in_steps_of_a_hundredth():
    # Negatives up to 0.925, positives from 0.935: only a threshold between them separates the two.
    scores = np.array([[0.2], [0.6], [0.91], [0.925], [0.935], [0.96], [0.99]])
    truth = np.array([[False], [False], [False], [False], [True], [True], [True]])
    chosen = pick_thresholds(scores, truth, ["propaganda"])["propaganda"]
    assert chosen["threshold"] == 0.93 and chosen["f1"] == 1.0


def test_ties_go_to_the_higher_threshold_and_the_grid_stays_within_0_3_and_0_95():
    scores = np.array([[0.1], [0.999], [0.9995]])
    truth = np.array([[False], [True], [True]])
    assert pick_thresholds(scores, truth, ["recruitment"])["recruitment"]["threshold"] == 0.95
    low = pick_thresholds(np.array([[0.31], [0.05]]), np.array([[True], [False]]), ["recruitment"])
    assert low["recruitment"]["threshold"] == 0.3
