"""rumteb's encoder: an mteb ``EncoderProtocol`` (and ``SearchProtocol``) built for throughput.

What it does differently from mteb's sentence-transformers wrapper (the scores are the same, see the tests):

- tokenizes each call's texts once, sorts them by token length and cuts batches by a token budget, not a count;
- runs BERT/RoBERTa/XLM-R on packed sequences (no padding in the linear layers; flash varlen attention on CUDA);
- ``precision="auto"``: bf16 on CUDA and on CPUs with bf16 matrix units, else fp32; pooling and normalisation are
  always fp32;
- never encodes the same (model, precision, max length, pooling, prompt, text) twice in a run, nor ever again with
  ``cache_dir``;
- several devices: one worker process each, same output as one device;
- retrieval: the corpus streams through in chunks sized by a memory budget, each scored exactly against every
  query on the device and merged into a running top-k, so memory does not grow with the corpus;
- ``engine="ray"``: encoding runs on Ray actors kept for the whole run (a local or a remote Ray cluster).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from mteb.models.abs_encoder import AbsEncoder

from rumteb.errors import ParameterError
from rumteb.models import loading
from rumteb.models._encoding import ModelEmbedding
from rumteb.models._inputs import MtebEncodeMixin, encode_loader
from rumteb.models.cache import CachedEmbedder, EmbeddingStore, namespace_id
from rumteb.models.prompts import folder_prompts, resolve_prompt, validate_prompts
from rumteb.models.runtime import make_backend, parse_devices
from rumteb.models.search import StreamingSearch
from rumteb.models.settings import EncoderSettings, Engine, Precision

if TYPE_CHECKING:
    from mteb.abstasks.task_metadata import TaskMetadata
    from mteb.models.model_meta import ModelMeta
    from mteb.types import PromptType

__all__ = ["PRECISIONS", "Encoder"]

PRECISIONS = tuple(precision.value for precision in Precision)
_INT8_ON_CUDA = (
    "The 'precision' parameter of Encoder is 'int8', a CPU precision (dynamic int8 linear layers), but the device "
    "is {device!r}. On CUDA use precision='bf16' or 'fp16'; for int8 pass device='cpu'."
)
ENGINES = tuple(engine.value for engine in Engine)
#: tokens per batch. CPU: a batch's activations stay near or under glibc's 32 MiB mmap threshold (2,048 x 3,072
#: fp32 = 24 MiB for a base model's FFN), so they are reused from the heap instead of mapped and faulted in afresh by
#: every layer: 1.07-1.15x faster in fp32 and 1.3-1.5x in int8 than 8,192, 1024-d models included (their FFN output
#: is at the threshold; smaller budgets measured no faster) (benchmarks/RESULTS.md, "Token budget on CPU")
DEFAULT_MAX_TOKENS = {"cpu": 2048, "cuda": 65536}


class Encoder(MtebEncodeMixin, AbsEncoder):
    """A fast mteb encoder for sentence-transformers and transformers models.

    Args:
        model_name_or_path: A local folder (sentence-transformers or transformers) or a Hub id.
        revision: The Hub revision (commit, branch or tag); ignored for local folders.
        device: ``"cpu"``, ``"cuda"`` (every visible GPU: one worker process each when there are several),
            ``"cuda:N"``, or a list of devices: one worker process per entry (``["cuda:0", "cuda:1"]``;
            ``["cpu", "cpu"]`` works too). Default: ``"cuda"`` if available, else CPU.
        precision: ``"fp32"``, ``"bf16"``, ``"fp16"``, ``"int8"`` or ``"auto"`` (bf16 on CUDA and on CPUs with
            bf16 matrix units, else fp32). ``"int8"`` (CPU, BERT-family models, opt-in: never chosen by ``auto``)
            runs the linear layers in dynamic int8; its scores differ from fp32 (see the docs' quality report).
            Pooling and normalisation always run in fp32.
        max_tokens_per_batch: Token budget of a batch, counted as rows x longest row. Default: 2,048 on CPU,
            65,536 on CUDA (halved on CUDA out-of-memory and retried).
        pooling: ``"cls"``, ``"mean"``, ``"max"``, ``"lasttoken"``, ``"mean_sqrt_len_tokens"``, ``"weightedmean"``
            (or a tuple, concatenated). Default: the sentence-transformers config; required for a plain
            transformers folder.
        normalize: L2-normalise the embeddings. Default: as the sentence-transformers config (a Normalize module);
            True for a plain transformers folder.
        prompts: Prompts in mteb's key format (see `rumteb.models.prompts`). Default: the model's own
            sentence-transformers prompts.
        cache_dir: Keep embeddings on disk here and never encode the same input twice across runs.
        max_length: Truncate inputs to this many tokens. Default: the model's (sentence-transformers
            ``max_seq_length``, else the tokenizer's limit), capped by its position table.
        trust_remote_code: Allow custom model code from the model folder (off unless asked).
        allow_pickle: Load weights stored only as pickle files (``pytorch_model.bin``, ``*.pt``, ``*.ckpt``),
            which can run code when loaded. Off: such a model is refused (`_folder_checks.PickleWeightsError`).
        memory_cache_bytes: Size of the in-run embedding memory (least recently used entries leave first).
            Retrieval corpora bypass it: they stream through in chunks (and to ``cache_dir`` when given).
        max_memory: Host memory budget of one retrieval corpus chunk, in bytes or as ``"4GiB"``; the chunk's
            size in documents follows from it and the embedding dimension. Default: a quarter of the free host
            memory, at most 512 MiB, with either engine; on CUDA also at most a quarter of the free device memory.
        engine: ``"local"`` (this process, or one worker process per device) or ``"ray"`` (Ray actors created on
            the first encode call and kept until `close`: one per GPU of the cluster with ``device="cuda"``, one
            per list entry otherwise; needs ``pip install "rumteb[ray]"``).
        ray_address: The Ray cluster to join (``"auto"``, ``"host:6379"``, ``"ray://host:10001"``). Default:
            ``RAY_ADDRESS``, else a new local cluster.

    The keywords but ``prompts`` are one `rumteb.models.EncoderSettings`, checked on construction (a bad value
    raises `rumteb.errors.ParameterError`, a ``ValueError``); `from_settings` takes that object instead.

    Example:
        >>> encoder = Encoder("sentence-transformers/all-MiniLM-L6-v2", device="cpu")
        >>> encoder.encode_texts(["Привет, мир!", "Hello"]).shape
        (2, 384)
        >>> import mteb, rumteb
        >>> results = mteb.evaluate(encoder, [rumteb.get_task("TERRa")])
    """

    mteb_model_meta: ModelMeta
    settings: EncoderSettings  #: the settings it runs with, checked and normalised

    @classmethod
    def from_settings(
        cls,
        model_name_or_path: str | Path,
        settings: EncoderSettings,
        *,
        revision: str | None = None,
        prompts: Mapping[str, str] | None = None,
    ) -> Encoder:
        """The encoder of ``model_name_or_path`` with ``settings``: the same as passing each setting as a keyword.

        Args:
            model_name_or_path: A local folder (sentence-transformers or transformers) or a Hub id.
            settings: How it runs (device, precision, batching, pooling, caches, engine), already checked.
            revision: The Hub revision (commit, branch or tag); ignored for local folders.
            prompts: Prompts in mteb's key format. Default: the model's own; ``{}``: none.

        Example:
            >>> from rumteb.models import EncoderSettings
            >>> settings = EncoderSettings(device="cpu", precision="fp32", cache_dir="~/.cache/emb")
            >>> encoder = Encoder.from_settings("ai-forever/ru-en-RoSBERTa", settings)
        """
        if not isinstance(settings, EncoderSettings):
            raise ParameterError.invalid("Encoder", "settings", "an EncoderSettings", settings)
        fields = {field.name: getattr(settings, field.name) for field in dataclasses.fields(settings)}
        return cls(model_name_or_path, revision, prompts=prompts, **fields)

    def __init__(
        self,
        model_name_or_path: str | Path,
        revision: str | None = None,
        *,
        device: str | Sequence[str] | None = None,
        precision: str = "auto",
        max_tokens_per_batch: int | None = None,
        pooling: str | tuple[str, ...] | None = None,
        normalize: bool | None = None,
        prompts: Mapping[str, str] | None = None,
        cache_dir: str | Path | None = None,
        max_length: int | None = None,
        trust_remote_code: bool = False,
        memory_cache_bytes: int = 2 << 30,
        allow_pickle: bool = False,
        max_memory: int | str | None = None,
        engine: str = "local",
        ray_address: str | None = None,
    ) -> None:
        # strings, lists and sizes as given: the settings object checks and normalises every one, once
        arguments: dict[str, Any] = {
            "device": device,
            "precision": precision,
            "max_tokens_per_batch": max_tokens_per_batch,
            "pooling": pooling,
            "normalize": normalize,
            "max_length": max_length,
            "cache_dir": cache_dir,
            "memory_cache_bytes": memory_cache_bytes,
            "max_memory": max_memory,
            "engine": engine,
            "ray_address": ray_address,
            "trust_remote_code": trust_remote_code,
            "allow_pickle": allow_pickle,
        }
        self.settings = EncoderSettings(**arguments)
        # below, the normalised values ("cuda:0,1" as a list, the enums as their str values)
        precision, engine = self.settings.precision.value, self.settings.engine.value
        modes_given = self.settings.pooling
        pooling = None if modes_given is None else tuple(mode.value for mode in modes_given)
        self.max_memory = self.settings.max_memory
        self.engine = engine
        self.devices = parse_devices(self.settings.device, engine)
        cuda = [name for name in self.devices if name.startswith("cuda")]
        if precision == "int8" and cuda:  # device=None chose CUDA (settings refuse a named one)
            err = ParameterError(_INT8_ON_CUDA.format(device=cuda[0]))
            err.parameter, err.owner = "precision", "Encoder"
            raise err
        from rumteb.models.runtime import resolve_precision

        if engine == "ray" and precision == "auto" and self.devices[0].startswith("cuda"):
            self.precision = "bf16"  # the cluster's GPUs, not this machine's (which may have none)
        else:
            self.precision = resolve_precision(precision, self.devices[0])
        kind = "cuda" if self.devices[0].startswith("cuda") else "cpu"
        self.max_tokens_per_batch = max_tokens_per_batch or DEFAULT_MAX_TOKENS[kind]

        resolved = loading.resolve(
            model_name_or_path, revision, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle
        )
        self._resolved = resolved
        from transformers import AutoConfig, AutoTokenizer

        folder = str(resolved.transformer_dir)
        self.tokenizer = AutoTokenizer.from_pretrained(
            folder, trust_remote_code=trust_remote_code, local_files_only=True
        )
        config = AutoConfig.from_pretrained(
            folder, trust_remote_code=trust_remote_code, local_files_only=True
        )

        if pooling is not None:
            modes = loading.check_pooling(pooling)
        elif resolved.pooling is not None:
            modes = resolved.pooling
        else:
            raise ValueError(
                f"The 'pooling' parameter of Encoder is required for {resolved.name}: it has no sentence-transformers "
                "config to read it from. Pass pooling='cls' or pooling='mean'."
            )
        self.normalize = bool(normalize) if normalize is not None else (resolved.normalize is not False)
        positions = getattr(config, "max_position_embeddings", None)
        limit = positions - loading.position_offset(config) if isinstance(positions, int) else None
        if max_length is not None and limit is not None and max_length > limit:
            raise ValueError(
                f"The 'max_length' parameter of Encoder must be at most {limit} for {resolved.name} (its position "
                f"table). Got {max_length!r} instead."
            )
        self.max_length = max_length or loading.model_max_length(
            config, self.tokenizer, resolved.max_seq_length
        )
        self.do_lower_case = resolved.do_lower_case
        self.spec = loading.ModelSpec(
            transformer_dir=folder,
            pooling=modes,
            normalize=self.normalize,
            include_prompt=resolved.include_prompt,
            max_length=self.max_length,
            dense=resolved.dense,
            trust_remote_code=trust_remote_code,
        )
        self.embed_dim = (
            resolved.dense[-1].out_features if resolved.dense else int(config.hidden_size) * len(modes)
        )

        # given prompts must all be mteb keys; a folder's may also hold sentence-transformers names (dropped)
        self.model_prompts = (
            validate_prompts(prompts) if prompts is not None else folder_prompts(resolved.prompts)
        )
        # sentence-transformers' default_prompt_name names one of the model's own prompts
        name = resolved.default_prompt_name
        self.default_prompt = resolved.prompts.get(name) if prompts is None and name else None

        self._weights_digest: str | None = None
        self.mteb_model_meta = self._build_meta(resolved)
        self.store = EmbeddingStore(memory_cache_bytes)
        self.namespace = namespace_id(self._namespace_settings(identity=f"instance:{id(self)}"))
        disk, disk_settings = None, None
        if cache_dir is not None:
            disk_settings = self._namespace_settings(identity=self._identity())
            self.namespace = namespace_id(disk_settings)
            disk = Path(cache_dir).expanduser() / self.namespace

        # the parts, each handed what it needs: the engine, the model on it, the cache in front, the search
        devices, dim = self.devices, self.embed_dim
        self._backend = make_backend(
            self.spec, devices, self.precision, self.max_tokens_per_batch, engine, ray_address
        )
        self._model = ModelEmbedding(self.tokenizer, self._backend, self.spec, self.do_lower_case, dim)
        self._embedder = CachedEmbedder(
            self._model, self.namespace, self.store, dim=dim, folder=disk, settings=disk_settings
        )
        self._search = StreamingSearch(
            self,
            encode_loader,
            embed_dim=lambda: dim,
            # one local device scores its own vectors; others' arrive on the CPU and are scored there
            device=devices[0] if engine == "local" and len(devices) == 1 else "cpu",
            max_memory=self.max_memory,
        )

    # ------------------------------------------------------------------------------------------------------------
    # encoding and search (mteb's EncoderProtocol and SearchProtocol)

    @property
    def stats(self) -> dict[str, int]:
        """Counts since construction: ``encoded`` (texts run through the model), ``memory_hits``, ``disk_hits``,
        ``truncated`` (encoded texts longer than ``max_length``, cut to it)."""
        return {**self.store.stats, "truncated": self._model.truncated}

    def encode_texts(
        self,
        texts: Sequence[str],
        *,
        prompt: str | None = None,
        show_progress_bar: bool = False,
        remember: bool = True,
    ) -> np.ndarray:
        """Embeddings of ``texts`` (float32, one row per text, in input order), with ``prompt`` prepended.

        ``remember=False`` keeps the new embeddings out of the in-run memory (they still go to ``cache_dir``): for
        inputs seen once, such as a streamed retrieval corpus.

        Example:
            >>> encoder.encode_texts(["мама мыла раму"], prompt="search_query: ").dtype
            dtype('float32')
        """
        return self._embedder.embed(
            texts, prompt=prompt, show_progress_bar=show_progress_bar, remember=remember
        )

    def get_prompt(self, task_metadata: TaskMetadata, prompt_type: PromptType | None) -> str | None:
        """The prompt text for a task and prompt type (mteb's priority), else the model's default prompt."""
        prompt = resolve_prompt(self.model_prompts, task_metadata, prompt_type)
        return prompt if prompt is not None else self.default_prompt

    def index(self, corpus: Any, **kwargs: Any) -> None:
        """mteb's ``SearchProtocol.index`` (`rumteb.models.search.StreamingSearch.index`)."""
        self._search.index(corpus, **kwargs)

    def search(self, queries: Any, **kwargs: Any) -> dict[str, dict[str, float]]:
        """mteb's ``SearchProtocol.search`` (`rumteb.models.search.StreamingSearch.search`)."""
        return self._search.search(queries, **kwargs)

    def corpus_chunk_rows(self, device: str | None = None) -> int:
        """Documents per streamed corpus chunk, from ``max_memory`` (or the default budget)."""
        return self._search.corpus_chunk_rows(device)

    # ------------------------------------------------------------------------------------------------------------
    # identity: mteb metadata and cache namespace

    def _weights(self) -> str:
        if self._weights_digest is None:
            self._weights_digest = loading.weights_fingerprint(self._resolved.root)
        return self._weights_digest

    def _identity(self) -> str:
        resolved = self._resolved
        if not resolved.is_local and resolved.revision:
            return f"hub:{resolved.name}@{resolved.revision}"
        return "content:" + loading.content_fingerprint(resolved.root, self._weights())

    def _namespace_settings(self, identity: str) -> dict[str, object]:
        return {
            "format": 1,
            "model": identity,
            "precision": self.precision,
            "max_length": self.max_length,
            "pooling": list(self.spec.pooling),
            "include_prompt": self.spec.include_prompt,
            "normalize": self.normalize,
            "dense": len(self.spec.dense),
            "lower_case": self.do_lower_case,
        }

    def _build_meta(self, resolved: loading.ResolvedModel) -> ModelMeta:
        from mteb.models.model_meta import ModelMeta, ScoringFunction

        revision = resolved.revision if not resolved.is_local else self._weights()
        similarity = {"cosine": ScoringFunction.COSINE, "dot": ScoringFunction.DOT_PRODUCT}.get(
            str(resolved.similarity_fn_name or "cosine"), ScoringFunction.COSINE
        )
        return ModelMeta.create_empty(
            overwrites={
                "loader": Encoder,
                "name": resolved.name,
                "revision": revision,
                "embed_dim": self.embed_dim,
                "max_tokens": self.max_length,
                "similarity_fn_name": similarity,
                "framework": ["PyTorch", "Transformers"],
                "use_instructions": bool(self.model_prompts),
                "open_weights": True,
            }
        )

    # ------------------------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the model (stop worker processes); the encoder cannot encode afterwards."""
        self._backend.close()

    def __enter__(self) -> Encoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Encoder({self.mteb_model_meta.name!r}, devices={self.devices}, precision={self.precision!r}, "
            f"max_tokens_per_batch={self.max_tokens_per_batch}, pooling={self.spec.pooling}, "
            f"normalize={self.normalize})"
        )
