"""xgboost.spark estimators whose models speak the Spark ML model protocol the library relies on.

xgboost.spark's models are pyspark.ml Models, but they lack two things Spark's own tree models
have: ``featureImportances`` (a Spark Vector; ``feature_importance`` reads it) and, for
classifiers, ``numClasses`` (``predict`` reads it to add the P(class 1) score). These
subclasses add both and nothing else: training, scoring and the on-disk format are
xgboost.spark's own, and ``save``/``DefaultParamsReader.loadParamsInstance`` round-trip them
(the saved metadata names the subclass).

Imported only when an xgboost component trains or a saved model is loaded: it imports
pyspark and xgboost at module level.
"""

from __future__ import annotations

from pyspark.ml.linalg import Vector, Vectors
from xgboost.spark import SparkXGBClassifier, SparkXGBClassifierModel, SparkXGBRegressor, SparkXGBRegressorModel


def _gain_importances(model: SparkXGBClassifierModel | SparkXGBRegressorModel) -> Vector:
    """Each feature's total split gain over all trees, normalised to sum 1 (all zeros without splits)."""
    booster = model.get_booster()
    size = booster.num_features()
    gains = booster.get_score(importance_type="total_gain")
    names = booster.feature_names
    index = {name: i for i, name in enumerate(names)} if names else {f"f{i}": i for i in range(size)}
    weights = [0.0] * size
    for name, gain in gains.items():
        if name in index:
            weights[index[name]] = float(gain)
    total = sum(weights)
    return Vectors.dense([w / total for w in weights] if total > 0 else weights)


class XGBoostClassificationModel(SparkXGBClassifierModel):
    """A fitted xgboost.spark classifier with ``featureImportances`` and ``numClasses``."""

    @property
    def featureImportances(self) -> Vector:  # noqa: N802 (Spark's name)
        """Total gain per feature, normalised to sum 1, as a dense Spark Vector."""
        return _gain_importances(self)

    @property
    def numClasses(self) -> int:  # noqa: N802 (Spark's name)
        """The number of classes (2 for a binary model)."""
        return max(2, int(self._xgb_sklearn_model.n_classes_))

    @property
    def numFeatures(self) -> int:  # noqa: N802 (Spark's name)
        return int(self.get_booster().num_features())


class XGBoostRegressionModel(SparkXGBRegressorModel):
    """A fitted xgboost.spark regressor with ``featureImportances``."""

    @property
    def featureImportances(self) -> Vector:  # noqa: N802 (Spark's name)
        """Total gain per feature, normalised to sum 1, as a dense Spark Vector."""
        return _gain_importances(self)

    @property
    def numFeatures(self) -> int:  # noqa: N802 (Spark's name)
        return int(self.get_booster().num_features())


class XGBoostClassifier(SparkXGBClassifier):
    """``SparkXGBClassifier`` whose ``fit`` returns an ``XGBoostClassificationModel``."""

    @classmethod
    def _pyspark_model_cls(cls) -> type[XGBoostClassificationModel]:
        return XGBoostClassificationModel


class XGBoostRegressor(SparkXGBRegressor):
    """``SparkXGBRegressor`` whose ``fit`` returns an ``XGBoostRegressionModel``."""

    @classmethod
    def _pyspark_model_cls(cls) -> type[XGBoostRegressionModel]:
        return XGBoostRegressionModel
