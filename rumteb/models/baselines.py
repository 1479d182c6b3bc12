"""Baselines: ``rumteb/navec-avg``, the mean of navec word vectors over razdel tokens.

navec (``news_v1_1B_250K_300d_100q``: 250k words, 300 dimensions, trained on 1B tokens of Russian news) ships inside
the ``natasha`` package, so the baseline runs offline with no download. A text's embedding is the mean of the
vectors of its lowercased razdel tokens that are in navec's vocabulary, L2-normalised; a text with no such token
gets the zero vector. Needs the ``baselines`` extra: ``pip install "rumteb[baselines]"``.

Example:
    >>> from rumteb.models.baselines import NavecAverage
    >>> NavecAverage().encode_texts(["Мама мыла раму."]).shape
    (1, 300)
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from mteb.models.abs_encoder import AbsEncoder

from rumteb.errors import MissingExtraError, ParameterError
from rumteb.models._inputs import MtebEncodeMixin

if TYPE_CHECKING:
    from mteb.abstasks.task_metadata import TaskMetadata
    from mteb.models.model_meta import ModelMeta
    from mteb.types import PromptType

__all__ = ["NAVEC_FILE_SHA1", "NavecAverage", "navec_meta"]

for _package in ("natasha", "razdel"):
    if importlib.util.find_spec(_package) is None:
        raise MissingExtraError(
            f'rumteb.models.baselines needs the {_package!r} package: pip install "rumteb[baselines]".'
        )

NAVEC_NAME = "navec_news_v1_1B_250K_300d_100q"
NAVEC_FILE_SHA1 = "3877f52d8b614360fe7ff4a4dff3141644557495"  # the file natasha 1.6 ships; also the revision


def navec_path() -> Path:
    from natasha.data import NEWS_EMBEDDING

    return Path(NEWS_EMBEDDING)


class NavecAverage(MtebEncodeMixin, AbsEncoder):
    """Mean of navec word vectors over razdel tokens (an mteb encoder, CPU, no torch needed to encode).

    Args:
        model_name: mteb's loader argument (``"rumteb/navec-avg"``); only that name is accepted.
        revision: Must be `NAVEC_FILE_SHA1` or None: the embedding file's SHA-1, checked on load.
        device: Accepted for mteb's loader protocol; only ``None`` or ``"cpu"``.
    """

    def __init__(
        self, model_name: str = "rumteb/navec-avg", revision: str | None = None, device: str | None = None
    ):
        if model_name != "rumteb/navec-avg":
            raise ParameterError.invalid("NavecAverage", "model_name", "'rumteb/navec-avg'", model_name)
        if device not in (None, "cpu"):
            raise ParameterError.invalid("NavecAverage", "device", "'cpu' or None", device)
        if revision not in (None, NAVEC_FILE_SHA1):
            expected = f"{NAVEC_FILE_SHA1!r} (the navec file natasha ships)"
            raise ParameterError.invalid("NavecAverage", "revision", expected, revision)
        from navec import Navec

        path = navec_path()
        digest = hashlib.sha1(path.read_bytes()).hexdigest()
        if digest != NAVEC_FILE_SHA1:
            raise MissingExtraError(
                f"{path} has SHA-1 {digest}, not {NAVEC_FILE_SHA1}: another navec file than rumteb pins. "
                "Install natasha 1.6."
            )
        navec = Navec.load(str(path))
        self._ids: dict[str, int] = navec.vocab.word_ids
        self._indexes = navec.pq.indexes
        self._codes = navec.pq.codes
        self._qdims = navec.pq.qdims
        self.dim = int(navec.pq.dim)
        self.mteb_model_meta = navec_meta()

    def _vectors(self, ids: np.ndarray) -> np.ndarray:
        # product-quantised rows: one centroid per sub-space, concatenated
        return self._codes[self._qdims, self._indexes[ids]].reshape(len(ids), self.dim)

    def get_prompt(self, task_metadata: TaskMetadata, prompt_type: PromptType | None) -> None:
        """No prompts: a bag of words has no use for them (mteb's ``encode`` passes none)."""
        return None

    def encode_texts(
        self,
        texts: Sequence[str],
        *,
        prompt: str | None = None,
        show_progress_bar: bool = False,
        remember: bool = True,
    ) -> np.ndarray:
        """One L2-normalised 300-d vector per text (float32), in input order, ``prompt`` prepended as the other
        encoders do. ``show_progress_bar`` and ``remember`` are accepted for mteb's ``encode`` and unused (no
        progress bar, no embedding memory)."""
        from razdel import tokenize

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate((prompt or "") + text for text in texts):
            ids = [self._ids[t] for t in (tok.text.lower() for tok in tokenize(text)) if t in self._ids]
            if ids:
                mean = self._vectors(np.asarray(ids)).mean(axis=0, dtype=np.float64)
                norm = np.linalg.norm(mean)
                out[row] = mean / norm if norm > 0 else 0.0
        return out


def load_navec(model_name: str, revision: str | None = None, **kwargs: Any) -> Any:
    """mteb loader of ``rumteb/navec-avg`` (imports the optional ``baselines`` extra only when called)."""
    return NavecAverage(model_name, revision, **kwargs)


@functools.cache
def navec_meta() -> ModelMeta:
    from mteb.models.model_meta import ModelMeta, ScoringFunction

    return ModelMeta(
        loader=load_navec,
        name="rumteb/navec-avg",
        revision="3877f52d8b614360fe7ff4a4dff3141644557495",  # SHA-1 of natasha's navec file
        release_date=None,
        languages=["rus-Cyrl"],
        n_parameters=250_002 * 300,  # the word table it stands for; stored product-quantised in 26 MB
        memory_usage_mb=26,
        max_tokens=None,
        embed_dim=300,
        license="mit",
        open_weights=True,
        public_training_code="https://github.com/natasha/navec",
        public_training_data=None,
        framework=["NumPy"],
        reference="https://github.com/natasha/navec",
        similarity_fn_name=ScoringFunction.COSINE,
        use_instructions=False,
        training_datasets=set(),
        model_type=["dense"],
    )
