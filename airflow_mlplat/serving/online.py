"""The online components' models on numpy: ``FtrlModel`` and ``OnlineStandardScalerModel``.

Both keep their state in ``state.npz`` next to Spark's metadata (``components._online_models``);
it is read with ``allow_pickle=False``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from airflow_mlplat.online import STATE_FILE
from airflow_mlplat.online.ftrl import Ftrl
from airflow_mlplat.online.moments import Moments
from airflow_mlplat.serving.errors import ModelLoadError
from airflow_mlplat.serving.frame import Frame
from airflow_mlplat.serving.spark_files import SavedStage
from airflow_mlplat.serving.stages import Apply


def _state(stage: SavedStage) -> dict[str, np.ndarray]:
    path = stage.path / STATE_FILE
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return {name: arrays[name] for name in arrays.files}
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{stage.describe()}: its state {path} cannot be read ({error})") from error


def ftrl(stage: SavedStage) -> Apply:
    try:
        coefficients, intercept = Ftrl.from_arrays(_state(stage)).weights()
    except (KeyError, ValueError) as error:
        raise ModelLoadError(f"{stage.describe()}: its FTRL state is not valid ({error})") from error
    params, where = stage.params, stage.describe()
    threshold = float(params.get("threshold", 0.5))

    def apply(frame: Frame) -> None:
        margin = frame.numeric(params.get("featuresCol", "features"), where) @ coefficients + intercept
        raw = np.stack([-margin, margin], axis=1)
        probability = 1.0 / (1.0 + np.exp(-raw))
        frame.columns[params.get("rawPredictionCol", "rawPrediction")] = raw
        frame.columns[params.get("probabilityCol", "probability")] = probability
        frame.columns[params.get("predictionCol", "prediction")] = (probability[:, 1] > threshold).astype(np.float64)

    return apply


def online_standard_scaler(stage: SavedStage) -> Apply:
    try:
        moments = Moments.from_arrays(_state(stage))
    except (KeyError, ValueError) as error:
        raise ModelLoadError(f"{stage.describe()}: its moments are not valid ({error})") from error
    params, where = stage.params, stage.describe()
    shift = moments.mean if params.get("withMean", True) else np.zeros(moments.dim)
    std = moments.std()
    scale = np.where(std > 0, 1.0 / np.where(std > 0, std, 1.0), 0.0) if params.get("withStd", True) else None

    def apply(frame: Frame) -> None:
        values = frame.numeric(params.get("featuresCol", "features"), where) - shift
        frame.columns[params.get("outputCol", "scaled_features")] = values if scale is None else values * scale

    return apply


ONLINE_FEATURE_STAGES: dict[str, Callable[[SavedStage], Apply]] = {"OnlineStandardScalerModel": online_standard_scaler}
ONLINE_PREDICTORS: dict[str, Callable[[SavedStage], Apply]] = {"FtrlModel": ftrl}
