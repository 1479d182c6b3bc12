"""Model folders in: a local folder or a Hub snapshot resolved to what rumteb's encoder runs (`ModelSpec`), with
the folder and weight-format checks that run before any weights load, and the fingerprints that name local models.

Standard library only: importing it loads neither torch nor transformers.
"""

from __future__ import annotations

from rumteb.models.loading._fingerprint import content_fingerprint, weight_files, weights_fingerprint
from rumteb.models.loading._folder_checks import (
    POOLING_MODES,
    ModelFolderError,
    PickleWeightsError,
    check_model_folder,
    check_weights_format,
)
from rumteb.models.loading._resolve import (
    DenseSpec,
    MissingModelFileError,
    ModelSpec,
    ResolvedModel,
    check_pooling,
    model_max_length,
    position_offset,
    resolve,
)

__all__ = [
    "POOLING_MODES",
    "DenseSpec",
    "MissingModelFileError",
    "ModelFolderError",
    "ModelSpec",
    "PickleWeightsError",
    "ResolvedModel",
    "check_model_folder",
    "check_pooling",
    "check_weights_format",
    "content_fingerprint",
    "model_max_length",
    "position_offset",
    "resolve",
    "weight_files",
    "weights_fingerprint",
]
