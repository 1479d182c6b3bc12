"""Vocabulary extension: add a donor tokenizer's tokens to a model's tokenizer, with initialised embeddings.

ru-en-RoSBERTa extends ruRoBERTa-large's byte-level BPE (50,265 rows) with about 48k English tokens of
roberta-large. Adding subwords with ``tokenizer.add_tokens`` is wrong: added tokens are matched as whole strings
before the model runs, so they never take part in splitting words. Here the tokens go into the tokenizer's model:

- byte-level BPE (RoBERTa family): donor tokens the base lacks are appended to the vocabulary, and donor merges the
  base lacks are appended *after* the base merges, keeping only merges whose two parts exist in the union
  vocabulary and whose result is one of the new tokens. BPE applies merges by rank, so base merges always run first
  and a new merge can only join what the base tokenizer leaves adjacent.
- WordPiece (BERT family): donor pieces the base lacks (``##`` continuation pieces included) are appended.

Every base token keeps its id. Base-language text tokenizes as before as long as the donor's new tokens do not
cover it, which holds for a donor of another language or script; WordPiece's greedy longest match (and BPE's new
merges) can change the split of a base-language word only when a new token is a longer piece of that word.

New embedding rows are the mean of the base model's rows of the *base tokenizer's* pieces of the token (the token's
text run through the base tokenizer's model, so partial UTF-8 bytes of byte-level tokens are handled exactly; a
WordPiece ``##x`` piece starts with the base's ``##`` form of its first piece). This is not transformers'
``mean_resizing``, which gives every new row about the global mean. Tied output embeddings follow; untied ones are
initialised the same way from the output matrix.

Example:
    >>> extend_tokenizer("ruRoberta-large", "roberta-large", "ruRoberta-large-ext")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rumteb.errors import ParameterError
from rumteb.recipe.merge import transformer_folder

__all__ = ["ExtensionReport", "extend_tokenizer"]

logger = logging.getLogger(__name__)

_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
)
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


@dataclass(frozen=True)
class ExtensionReport:
    """What `extend_tokenizer` did.

    Attributes:
        out: the output folder.
        kind: ``"BPE"`` or ``"WordPiece"``.
        base_size: rows of the base model's embedding matrix.
        new_tokens: the appended tokens, in id order, starting at ``first_new_id``.
        first_new_id: id of the first new token.
        new_merges: BPE merges appended (0 for WordPiece).
    """

    out: Path
    kind: str
    base_size: int
    new_tokens: tuple[str, ...]
    first_new_id: int
    new_merges: int


def extend_tokenizer(
    base: str | Path, donor: str | Path, out: str | Path, max_new_tokens: int | None = None
) -> ExtensionReport:
    """Extend the tokenizer of model ``base`` with the tokens of tokenizer ``donor``; write the model to ``out``.

    Args:
        base: a sentence-transformers or transformers model folder with a fast tokenizer (``tokenizer.json``).
        donor: a tokenizer folder (``tokenizer.json``) of the same model type (BPE or WordPiece).
        out: new folder: a copy of ``base`` (sentence-transformers modules included) with the extended tokenizer
            and resized embeddings.
        max_new_tokens: add at most this many tokens, the donor's first ones in id order (for trained BPE and
            WordPiece vocabularies that is the order they were learnt, so intermediate BPE tokens come first).

    Returns:
        An `ExtensionReport`.

    Raises:
        ValueError: for folders without a fast tokenizer, tokenizers of different types, a non-empty ``out`` or a
            bad ``max_new_tokens``.

    Example:
        >>> report = extend_tokenizer("all-MiniLM-L6-v2", "ru-wordpiece", "minilm-ru")  # doctest: +SKIP
        >>> len(report.new_tokens)  # doctest: +SKIP
        5123
    """
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    if max_new_tokens is not None and (
        isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 0
    ):
        raise ParameterError(
            "The 'max_new_tokens' parameter of extend_tokenizer must be a non-negative integer or None. "
            f"Got {max_new_tokens!r} instead."
        )
    base_root, out_root = Path(base), Path(out)
    if not base_root.is_dir():
        raise ParameterError(
            f"The 'base' parameter of extend_tokenizer must be a model folder. Got {str(base_root)!r} instead."
        )
    if out_root.exists() and any(out_root.iterdir()):
        raise ParameterError(
            "The 'out' parameter of extend_tokenizer must be a new or empty folder. "
            f"Got {str(out_root)!r} instead."
        )
    model_dir = transformer_folder(base_root)
    base_tok = AutoTokenizer.from_pretrained(str(model_dir))
    if not hasattr(base_tok, "backend_tokenizer"):
        raise ParameterError(
            "The 'base' parameter of extend_tokenizer must be a model folder with a fast tokenizer "
            f"(tokenizer.json). Got {str(base_root)!r} instead."
        )
    base_json = json.loads(base_tok.backend_tokenizer.to_str())
    donor_json = _donor_json(Path(donor))
    kind = base_json["model"]["type"]
    donor_kind = donor_json["model"]["type"]
    if kind not in ("BPE", "WordPiece") or donor_kind != kind:
        raise ParameterError(
            f"The 'donor' parameter of extend_tokenizer must be a tokenizer of the base's type ({kind}; BPE and "
            f"WordPiece are supported). Got a {donor_kind} tokenizer {str(donor)!r} instead."
        )

    base_vocab: dict[str, int] = base_json["model"]["vocab"]
    donor_specials = {t["content"] for t in donor_json.get("added_tokens", [])}
    used_ids = list(base_vocab.values()) + [t["id"] for t in base_json.get("added_tokens", [])]
    first_id = max(used_ids) + 1
    donor_vocab: dict[str, int] = donor_json["model"]["vocab"]
    new_tokens = [
        tok
        for tok, _ in sorted(donor_vocab.items(), key=lambda item: item[1])
        if tok not in base_vocab and tok not in donor_specials
    ]
    if max_new_tokens is not None:
        new_tokens = new_tokens[:max_new_tokens]
    ext_json = json.loads(json.dumps(base_json))
    ext_vocab = ext_json["model"]["vocab"]
    for offset, tok in enumerate(new_tokens):
        ext_vocab[tok] = first_id + offset
    new_merges = 0
    if kind == "BPE":
        new_merges = _append_merges(ext_json["model"], donor_json["model"]["merges"], set(new_tokens))
    extended = Tokenizer.from_str(json.dumps(ext_json, ensure_ascii=False))

    model = _load_model(model_dir)
    embeddings = model.get_input_embeddings()
    base_rows = int(embeddings.weight.shape[0])
    old_input = embeddings.weight.detach().clone()
    output = model.get_output_embeddings()
    tied = output is None or output.weight.data_ptr() == embeddings.weight.data_ptr()
    old_output = None if tied else output.weight.detach().clone()
    base_model = base_tok.backend_tokenizer.model
    unk = base_json["model"].get("unk_token")
    pieces = [_base_pieces(tok, kind, base_model, base_vocab, base_json["model"]) for tok in new_tokens]
    for tok, ids in zip(new_tokens, pieces, strict=True):
        if not ids or (unk is not None and ids == [base_vocab.get(unk)]):
            logger.warning("The base tokenizer splits new token %r into the unknown token only.", tok)

    new_size = max(base_rows, first_id + len(new_tokens))
    model.resize_token_embeddings(new_size, mean_resizing=False)
    with torch.no_grad():
        weight = model.get_input_embeddings().weight
        for offset, ids in enumerate(pieces):
            weight[first_id + offset] = _mean_row(old_input, ids)
        if old_output is not None:
            out_weight = model.get_output_embeddings().weight
            for offset, ids in enumerate(pieces):
                out_weight[first_id + offset] = _mean_row(old_output, ids)

    out_root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(base_root, out_root, dirs_exist_ok=True)
    out_model_dir = out_root / model_dir.relative_to(base_root)
    for name in _TOKENIZER_FILES + _WEIGHT_FILES:
        (out_model_dir / name).unlink(missing_ok=True)
    for shard in out_model_dir.glob("model-*-of-*.safetensors"):
        shard.unlink()
    model.save_pretrained(str(out_model_dir))
    base_tok.save_pretrained(str(out_model_dir))
    for name in ("vocab.txt", "vocab.json", "merges.txt"):
        (out_model_dir / name).unlink(missing_ok=True)
    extended.save(str(out_model_dir / "tokenizer.json"))
    logger.info(
        "Added %d tokens (ids %d..%d) and %d merges to %s; embeddings %d -> %d rows; wrote %s",
        len(new_tokens),
        first_id,
        first_id + len(new_tokens) - 1,
        new_merges,
        base_root,
        base_rows,
        new_size,
        out_root,
    )
    return ExtensionReport(out_root, kind, base_rows, tuple(new_tokens), first_id, new_merges)


def _donor_json(donor: Path) -> dict[str, Any]:
    if donor.is_dir():
        for folder in (donor, transformer_folder(donor)):
            if (folder / "tokenizer.json").is_file():
                return dict(json.loads((folder / "tokenizer.json").read_text(encoding="utf-8")))
    if donor.is_file() and donor.suffix == ".json":
        return dict(json.loads(donor.read_text(encoding="utf-8")))
    raise ParameterError(
        "The 'donor' parameter of extend_tokenizer must be a tokenizer folder with tokenizer.json. "
        f"Got {str(donor)!r} instead."
    )


def _pair(merge: str | list[str]) -> tuple[str, str]:
    if isinstance(merge, str):
        left, right = merge.split(" ", 1)
        return left, right
    return merge[0], merge[1]


def _append_merges(model: dict[str, Any], donor_merges: list[Any], new_tokens: set[str]) -> int:
    """Append the donor merges the base lacks whose parts exist in the union vocabulary and whose result is new."""
    merges: list[Any] = model["merges"]
    as_strings = bool(merges) and isinstance(merges[0], str)
    known = {_pair(m) for m in merges}
    vocab = model["vocab"]
    added = 0
    for merge in donor_merges:
        left, right = _pair(merge)
        if (
            (left, right) in known
            or left not in vocab
            or right not in vocab
            or left + right not in new_tokens
        ):
            continue
        merges.append(f"{left} {right}" if as_strings else [left, right])
        known.add((left, right))
        added += 1
    return added


def _base_pieces(
    token: str, kind: str, base_model: Any, vocab: dict[str, int], model_json: dict[str, Any]
) -> list[int]:
    """Ids of the base tokenizer's pieces of one new token."""
    if kind == "BPE":
        return [piece.id for piece in base_model.tokenize(token)]
    prefix = model_json.get("continuing_subword_prefix", "##")
    continuation = bool(prefix) and token.startswith(prefix) and len(token) > len(prefix)
    text = token[len(prefix) :] if continuation else token
    pieces = [piece.value for piece in base_model.tokenize(text)]
    if continuation and pieces and prefix + pieces[0] in vocab:
        # The token continues a word: its first piece is the base's continuation form of that piece.
        pieces[0] = prefix + pieces[0]
    return [vocab[p] for p in pieces if p in vocab]


def _mean_row(matrix: Any, ids: list[int]) -> Any:
    kept = [i for i in ids if 0 <= i < matrix.shape[0]]
    # No usable piece (cannot happen for byte-level BPE): the mean of all rows, as transformers would.
    return matrix[kept].mean(dim=0) if kept else matrix.mean(dim=0)


def _load_model(model_dir: Path) -> Any:
    import transformers

    config = transformers.AutoConfig.from_pretrained(str(model_dir))
    architectures = getattr(config, "architectures", None) or []
    # Keep heads (an MLM head matters for the recipe's MLM adaptation step); fall back to the bare encoder.
    cls = getattr(transformers, architectures[0], None) if architectures else None
    if cls is None:
        cls = transformers.AutoModel
    return cls.from_pretrained(str(model_dir))
