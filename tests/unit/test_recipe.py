"""`vigil train --default` starts from exactly the data and layers the bundled head was trained with."""
import json

from classifiers.default import HEAD_DIR
from classifiers.model import VIGIL_FILE
from classifiers.training.datasets import DEFAULT_SHARED_DATA
from classifiers.training.recipe import default_recipe
from classifiers.training.train import data_hash


def test_the_default_recipe_is_what_the_bundled_model_was_trained_on():
    meta = json.loads((HEAD_DIR / VIGIL_FILE).read_text(encoding="utf-8"))
    recipe = default_recipe(DEFAULT_SHARED_DATA, meta["training"]["seed"])
    assert data_hash(recipe.examples) == meta["training"]["data_sha256"]
    assert meta["architecture"].startswith(f"its top {recipe.train_layers} layer(s)")
