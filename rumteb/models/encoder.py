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
- ``engine="ray"``: encoding runs as a Ray Data job on an actor pool (a local or a remote Ray cluster).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from mteb.models.abs_encoder import AbsEncoder

from rumteb._devices import normalize_device
from rumteb.models import _loading
from rumteb.models._batching import plan_batches, tokenize
from rumteb.models._cache import EmbeddingStore, content_keys, namespace_id
from rumteb.models.prompts import folder_prompts, resolve_prompt, validate_prompts

if TYPE_CHECKING:
    from mteb.abstasks.task_metadata import TaskMetadata
    from mteb.models.model_meta import ModelMeta
    from mteb.types import PromptType
    from torch.utils.data import DataLoader

logger = logging.getLogger(__name__)

__all__ = ["PRECISIONS", "Encoder"]

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
ENGINES = ("local", "ray")
DEFAULT_MAX_TOKENS = {"cpu": 8192, "cuda": 65536}
_ENCODE_KWARGS = ("batch_size", "show_progress_bar", "precision")


def _parse_devices(device: str | Sequence[str] | None, engine: str = "local") -> list[str]:
    """The devices to encode on. With the Ray engine GPUs are the cluster's, not this machine's: ``None`` and
    ``"cuda"`` stay ``["cuda"]`` (one actor per cluster GPU) instead of this machine's visible GPUs."""

    def one(value: str) -> str:
        return normalize_device(value, "The 'device' parameter of Encoder")

    import torch

    local = engine == "local"
    if device is None:
        device = "cuda" if not local or torch.cuda.is_available() else "cpu"
    if isinstance(device, str | int):
        name = one(str(device))
        count = torch.cuda.device_count() if local and name == "cuda" else 0
        # "cuda": every visible GPU, one worker process each (one GPU: no worker process)
        return [f"cuda:{i}" for i in range(count)] if count > 1 else [name]
    devices = [one(d) for d in device]
    if not devices:
        raise ValueError("The 'device' parameter of Encoder must name at least one device. Got [] instead.")
    return devices


class _Corpus:
    """An indexed corpus waiting for `Encoder.search`."""

    def __init__(self, corpus: Any, cosine: bool, num_proc: int | None) -> None:
        self.corpus = corpus
        self.cosine = cosine
        self.num_proc = num_proc


class Encoder(AbsEncoder):
    """A fast mteb encoder for sentence-transformers and transformers models.

    Args:
        model_name_or_path: A local folder (sentence-transformers or transformers) or a Hub id.
        revision: The Hub revision (commit, branch or tag); ignored for local folders.
        device: ``"cpu"``, ``"cuda"`` (every visible GPU: one worker process each when there are several),
            ``"cuda:N"``, or a list of devices: one worker process per entry (``["cuda:0", "cuda:1"]``;
            ``["cpu", "cpu"]`` works too). Default: ``"cuda"`` if available, else CPU.
        precision: ``"fp32"``, ``"bf16"``, ``"fp16"`` or ``"auto"`` (bf16 on CUDA and on CPUs with bf16 matrix
            units, else fp32). Pooling and normalisation always run in fp32.
        max_tokens_per_batch: Token budget of a batch, counted as rows x longest row. Default: 8,192 on CPU,
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
            which can run code when loaded. Off: such a model is refused (`_loading.PickleWeightsError`).
        memory_cache_bytes: Size of the in-run embedding memory (least recently used entries leave first).
            Retrieval corpora bypass it: they stream through in chunks (and to ``cache_dir`` when given).
        max_memory: Host memory budget of one retrieval corpus chunk, in bytes or as ``"4GiB"``; the chunk's
            size in documents follows from it and the embedding dimension. Default: a quarter of the free host
            memory, at most 512 MiB (not capped with ``engine="ray"``: each chunk is one Ray job, which starts its
            actors and loads the model); on CUDA also at most a quarter of the free device memory.
        engine: ``"local"`` (this process, or one worker process per device) or ``"ray"`` (a Ray Data job on
            an actor pool: one actor per GPU of the cluster with ``device="cuda"``, one per list entry
            otherwise; needs ``pip install "rumteb[ray]"``).
        ray_address: The Ray cluster to join (``"auto"``, ``"host:6379"``, ``"ray://host:10001"``). Default:
            ``RAY_ADDRESS``, else a new local cluster.

    Example:
        >>> encoder = Encoder("sentence-transformers/all-MiniLM-L6-v2", device="cpu")
        >>> encoder.encode_texts(["Привет, мир!", "Hello"]).shape
        (2, 384)
        >>> import mteb, rumteb
        >>> results = mteb.evaluate(encoder, [rumteb.get_task("TERRa")])
    """

    mteb_model_meta: ModelMeta

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
        if precision not in PRECISIONS:
            raise ValueError(
                f"The 'precision' parameter of Encoder must be one of {', '.join(PRECISIONS)}. "
                f"Got {precision!r} instead."
            )
        if max_tokens_per_batch is not None and (
            not isinstance(max_tokens_per_batch, int) or max_tokens_per_batch < 1
        ):
            raise ValueError(
                "The 'max_tokens_per_batch' parameter of Encoder must be a positive int. "
                f"Got {max_tokens_per_batch!r} instead."
            )
        if max_length is not None and (not isinstance(max_length, int) or max_length < 2):
            raise ValueError(
                f"The 'max_length' parameter of Encoder must be an int >= 2. Got {max_length!r} instead."
            )
        if engine not in ENGINES:
            raise ValueError(
                f"The 'engine' parameter of Encoder must be one of {', '.join(ENGINES)}. Got {engine!r} instead."
            )
        if ray_address is not None and engine != "ray":
            raise ValueError(
                f"The 'ray_address' parameter of Encoder applies to engine='ray' only. Got {ray_address!r} with "
                f"engine={engine!r}; pass engine='ray' or drop ray_address."
            )
        from rumteb.models._memory import parse_size

        self.max_memory = (
            None if max_memory is None else parse_size(max_memory, "The 'max_memory' parameter of Encoder")
        )
        self.engine = engine
        self.devices = _parse_devices(device, engine)
        from rumteb.models._runtime import resolve_precision

        if engine == "ray" and precision == "auto" and self.devices[0].startswith("cuda"):
            self.precision = "bf16"  # the cluster's GPUs, not this machine's (which may have none)
        else:
            self.precision = resolve_precision(precision, self.devices[0])
        kind = "cuda" if self.devices[0].startswith("cuda") else "cpu"
        self.max_tokens_per_batch = max_tokens_per_batch or DEFAULT_MAX_TOKENS[kind]

        resolved = _loading.resolve(
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
            modes = _loading.check_pooling(pooling)
        elif resolved.pooling is not None:
            modes = resolved.pooling
        else:
            raise ValueError(
                f"The 'pooling' parameter of Encoder is required for {resolved.name}: it has no sentence-transformers "
                "config to read it from. Pass pooling='cls' or pooling='mean'."
            )
        self.normalize = bool(normalize) if normalize is not None else (resolved.normalize is not False)
        positions = getattr(config, "max_position_embeddings", None)
        limit = positions - _loading.position_offset(config) if isinstance(positions, int) else None
        if max_length is not None and limit is not None and max_length > limit:
            raise ValueError(
                f"The 'max_length' parameter of Encoder must be at most {limit} for {resolved.name} (its position "
                f"table). Got {max_length!r} instead."
            )
        self.max_length = max_length or _loading.model_max_length(
            config, self.tokenizer, resolved.max_seq_length
        )
        self.do_lower_case = resolved.do_lower_case
        self.spec = _loading.ModelSpec(
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
        self._prompt_lengths: dict[str, int] = {}
        self._truncated = 0

        self._weights_digest: str | None = None
        self.mteb_model_meta = self._build_meta(resolved)
        self.store = EmbeddingStore(memory_cache_bytes)
        self.namespace = namespace_id(self._namespace_settings(identity=f"instance:{id(self)}"))
        if cache_dir is not None:
            settings = self._namespace_settings(identity=self._identity())
            self.namespace = namespace_id(settings)
            self.store.attach_disk(Path(cache_dir).expanduser() / self.namespace, settings, self.embed_dim)

        self._runtime: Any = None
        self._pool: Any = None
        self._search: Any = None
        self._streaming = False
        if engine == "ray":
            from rumteb.models._ray import RayPool

            self._pool = RayPool(
                self.spec, self.devices, self.precision, self.max_tokens_per_batch, address=ray_address
            )
        elif len(self.devices) == 1:
            from rumteb.models._runtime import Runtime

            self._runtime = Runtime(self.spec, self.devices[0], self.precision, self.max_tokens_per_batch)
        else:
            from rumteb.models._workers import WorkerPool

            self._pool = WorkerPool(self.spec, self.devices, self.precision, self.max_tokens_per_batch)

    # ------------------------------------------------------------------------------------------------------------
    # identity: mteb metadata and cache namespace

    def _weights(self) -> str:
        if self._weights_digest is None:
            from rumteb.runner import weights_fingerprint

            self._weights_digest = weights_fingerprint(self._resolved.root)
        return self._weights_digest

    def _identity(self) -> str:
        resolved = self._resolved
        if not resolved.is_local and resolved.revision:
            return f"hub:{resolved.name}@{resolved.revision}"
        return "content:" + _loading.content_fingerprint(resolved.root, self._weights())

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

    def _build_meta(self, resolved: _loading.ResolvedModel) -> ModelMeta:
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
    # encoding

    @property
    def stats(self) -> dict[str, int]:
        """Counts since construction: ``encoded`` (texts run through the model), ``memory_hits``, ``disk_hits``,
        ``truncated`` (encoded texts longer than ``max_length``, cut to it)."""
        return {**self.store.stats, "truncated": self._truncated}

    def _prompt_length(self, prompt: str) -> int:
        if prompt not in self._prompt_lengths:
            ids = self.tokenizer(
                prompt, add_special_tokens=True, truncation=True, max_length=self.max_length
            )["input_ids"]
            length = len(ids)
            if ids and ids[-1] in set(self.tokenizer.all_special_ids):
                length -= 1
            self._prompt_lengths[prompt] = length
        return self._prompt_lengths[prompt]

    def encode_texts(
        self,
        texts: Sequence[str],
        *,
        prompt: str | None = None,
        show_progress_bar: bool = False,
        remember: bool = True,
    ) -> np.ndarray:
        """Embeddings of ``texts`` (float32, one row per text, in input order), with ``prompt`` prepended.

        Example:
            >>> encoder.encode_texts(["мама мыла раму"], prompt="search_query: ").dtype
            dtype('float32')

        ``remember=False`` keeps the new embeddings out of the in-run memory (they still go to ``cache_dir``):
        for inputs seen once, such as a streamed retrieval corpus.
        """
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError("The 'texts' parameter of Encoder.encode_texts must be a list of strings.")
        prompt = prompt or None
        keys = content_keys(self.namespace, prompt, texts)
        first: dict[bytes, int] = {}
        for key in keys:
            first.setdefault(key, len(first))
        unique_keys = list(first)
        cached = self.store.get(unique_keys, remember=remember)
        todo = [i for i, v in enumerate(cached) if v is None]
        fresh = None
        if todo:
            position = {key: i for i, key in enumerate(keys)}  # any occurrence: same text and prompt
            inputs = [(prompt or "") + texts[position[unique_keys[i]]] for i in todo]
            fresh = self._encode_unique(inputs, [unique_keys[i] for i in todo], prompt, show_progress_bar)
            self.store.put([unique_keys[i] for i in todo], fresh, remember=remember)
            if len(todo) == len(keys):  # all new and distinct, in input order: no copy (large corpus chunks)
                return fresh
        vectors = np.zeros((len(unique_keys), self.embed_dim), dtype=np.float32)
        for i, vector in enumerate(cached):
            if vector is not None:
                vectors[i] = vector
        if fresh is not None:
            vectors[todo] = fresh
        return vectors[[first[k] for k in keys]] if keys else vectors

    def _encode_unique(
        self, inputs: list[str], keys: list[bytes], prompt: str | None, show_progress_bar: bool
    ) -> np.ndarray:
        from tqdm.auto import tqdm

        if self.do_lower_case:
            inputs = [text.lower() for text in inputs]
        tokens = tokenize(self.tokenizer, inputs, self.max_length)
        self._truncated += tokens.truncated
        tie_break = np.frombuffer(b"".join(k[:8] for k in keys), dtype=">u8")
        budget = self._runtime.max_tokens if self._runtime is not None else self.max_tokens_per_batch
        plan = plan_batches(tokens.lengths, tie_break, budget)
        batches = [tokens.gather(rows) for rows in plan]
        prompt_length = self._prompt_length(prompt) if prompt and not self.spec.include_prompt else None
        # leave=False: the bar goes when the call ends, the console keeps one line per task
        # counts texts, so the rate is texts/s (across all devices or Ray actors)
        bar = tqdm(
            total=len(inputs), desc="Encoding", unit=" texts", disable=not show_progress_bar, leave=False
        )
        with bar:
            if self._runtime is not None:
                outputs = self._runtime.encode_many(batches, prompt_length, bar)
            else:
                outputs = self._pool.encode_many(batches, prompt_length, bar.update)
        out = np.zeros((len(inputs), self.embed_dim), dtype=np.float32)
        for rows, vectors in zip(plan, outputs, strict=True):
            out[rows] = vectors
        return out

    def get_prompt(self, task_metadata: TaskMetadata, prompt_type: PromptType | None) -> str | None:
        """The prompt text for a task and prompt type (mteb's priority), else the model's default prompt."""
        prompt = resolve_prompt(self.model_prompts, task_metadata, prompt_type)
        return prompt if prompt is not None else self.default_prompt

    def encode(
        self,
        inputs: DataLoader[Any],
        *,
        task_metadata: TaskMetadata,
        hf_split: str,
        hf_subset: str,
        prompt_type: PromptType | None = None,
        **kwargs: Any,
    ) -> np.ndarray:
        """mteb's ``EncoderProtocol.encode``: the texts of ``inputs`` in order, with the task's prompt.

        ``batch_size`` from mteb's ``encode_kwargs`` does not apply (batches are cut by tokens:
        ``max_tokens_per_batch``); ``precision`` (output quantisation) must be ``float32`` if given.

        Raises:
            TypeError: An unknown keyword argument.
            ValueError: Non-text inputs, or an output precision other than float32.
        """
        unknown = sorted(set(kwargs) - set(_ENCODE_KWARGS))
        if unknown:
            raise TypeError(f"Encoder.encode got unexpected keyword argument(s): {', '.join(unknown)}.")
        if kwargs.get("precision", "float32") != "float32":
            raise ValueError(
                f"The 'precision' encode argument of Encoder must be 'float32'. Got {kwargs['precision']!r} instead; "
                "set the compute precision with Encoder(precision=...)."
            )
        texts: list[str] = []
        for batch in inputs:
            if "text" not in batch:
                raise ValueError(f"Encoder encodes text only; the inputs hold {sorted(batch)}.")
            texts.extend(batch["text"])
        prompt = self.get_prompt(task_metadata, prompt_type)
        return self.encode_texts(
            texts,
            prompt=prompt,
            show_progress_bar=bool(kwargs.get("show_progress_bar")),
            remember=not self._streaming,
        )

    # ------------------------------------------------------------------------------------------------------------
    # retrieval (mteb's SearchProtocol): the corpus streams through in chunks, searched exactly on the device

    def index(
        self,
        corpus: Any,
        *,
        task_metadata: TaskMetadata,
        hf_split: str,
        hf_subset: str,
        encode_kwargs: Mapping[str, Any],
        num_proc: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Take the corpus (mteb's ``SearchProtocol.index``); it is encoded chunk by chunk during `search`."""
        from mteb.models.model_meta import ScoringFunction
        from mteb.models.search_wrappers import SearchEncoderWrapper

        similarity = self.mteb_model_meta.similarity_fn_name
        if similarity in (ScoringFunction.COSINE, ScoringFunction.DOT_PRODUCT):
            self._search = _Corpus(corpus, cosine=similarity is ScoringFunction.COSINE, num_proc=num_proc)
            return
        self._search = SearchEncoderWrapper(self)  # other similarities: mteb's own chunked search
        self._search.index(
            corpus,
            task_metadata=task_metadata,
            hf_split=hf_split,
            hf_subset=hf_subset,
            encode_kwargs=dict(encode_kwargs),
            num_proc=num_proc,
            **kwargs,
        )

    def search(
        self,
        queries: Any,
        *,
        task_metadata: TaskMetadata,
        hf_split: str,
        hf_subset: str,
        top_k: int,
        encode_kwargs: Mapping[str, Any],
        top_ranked: Mapping[str, list[str]] | None = None,
        num_proc: int | None = None,
        **kwargs: Any,
    ) -> dict[str, dict[str, float]]:
        """Top-k documents per query (mteb's ``SearchProtocol.search``); call `index` first.

        Scores equal mteb's default search on the same embeddings (fp32; ties at the k-th place resolved as its
        heap does). Memory: one corpus chunk (see ``max_memory``) plus queries x top-k.
        """
        if self._search is None:
            raise ValueError("Encoder.search needs an indexed corpus: call Encoder.index first.")
        indexed, self._search = self._search, None
        if not isinstance(indexed, _Corpus):
            return indexed.search(
                queries,
                task_metadata=task_metadata,
                hf_split=hf_split,
                hf_subset=hf_subset,
                top_k=top_k,
                encode_kwargs=dict(encode_kwargs),
                top_ranked=top_ranked,
                num_proc=num_proc,
                **kwargs,
            )
        from rumteb.models import _search

        where = {"task_metadata": task_metadata, "hf_split": hf_split, "hf_subset": hf_subset}
        query_vectors = self._encode_rows(queries, "query", where, dict(encode_kwargs), num_proc)
        query_ids = _search.id_column(queries).to_pylist()
        ids = _search.id_column(indexed.corpus)
        # one local device scores its own vectors; with several (or Ray actors) scores are computed on the CPU,
        # where the vectors arrive
        device = self.devices[0] if self.engine == "local" and len(self.devices) == 1 else "cpu"
        if top_ranked is not None:
            positions, rows = _search.candidate_rows(ids, query_ids, top_ranked)
            rerank = _search.StreamingRerank(query_vectors, positions, rows, device, indexed.cosine)
            self._stream_corpus(indexed, rerank.add, where, dict(encode_kwargs), device)
            results: dict[str, dict[str, float]] = {}
            for qid, (values, picks) in zip(query_ids, rerank.top(top_k), strict=True):
                ranked = list(top_ranked.get(qid) or [])
                results[qid] = {ranked[i]: v for i, v in zip(picks.tolist(), values.tolist(), strict=True)}
            return results
        top = _search.StreamingTopK(query_vectors, top_k, _search.id_ranks(ids), device, indexed.cosine)
        self._stream_corpus(indexed, top.add, where, dict(encode_kwargs), device)
        values, rows = top.result()
        width = values.shape[1]
        hit_ids = ids.take(rows.ravel()).to_pylist() if rows.size else []
        scores = values.ravel().tolist()
        return {
            qid: dict(
                zip(hit_ids[q * width : (q + 1) * width], scores[q * width : (q + 1) * width], strict=True)
            )
            for q, qid in enumerate(query_ids)
        }

    def corpus_chunk_rows(self, device: str) -> int:
        """Documents per streamed corpus chunk, from ``max_memory`` (or the default budget)."""
        from rumteb.models._memory import chunk_rows, default_budget

        return chunk_rows(
            self.max_memory or default_budget(capped=self.engine != "ray"), self.embed_dim, device
        )

    def _encode_rows(
        self, rows: Any, kind: str, where: dict[str, Any], encode_kwargs: dict[str, Any], num_proc: int | None
    ) -> np.ndarray:
        from mteb._create_dataloaders import create_dataloader
        from mteb.types import PromptType

        prompt_type = PromptType.query if kind == "query" else PromptType.document
        loader = create_dataloader(
            rows,
            task_metadata=where["task_metadata"],
            prompt_type=prompt_type,
            num_proc=num_proc,
            **encode_kwargs,
        )
        return np.asarray(self.encode(loader, prompt_type=prompt_type, **where, **encode_kwargs))

    def _stream_corpus(
        self,
        indexed: _Corpus,
        consume: Any,
        where: dict[str, Any],
        encode_kwargs: dict[str, Any],
        device: str,
    ) -> None:
        from rumteb.models._memory import release_free_memory

        corpus = indexed.corpus
        size = self.corpus_chunk_rows(device)
        logger.info("Streaming %d documents in chunks of %d", len(corpus), size)
        self._streaming = True
        try:
            for start in range(0, len(corpus), size):
                part = corpus.select(range(start, min(len(corpus), start + size)))
                consume(self._encode_rows(part, "document", where, encode_kwargs, indexed.num_proc))
                release_free_memory()
        finally:
            self._streaming = False

    # ------------------------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop worker processes (multi-device); the encoder cannot encode afterwards."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

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
