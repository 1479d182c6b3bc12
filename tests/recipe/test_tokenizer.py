"""Vocabulary extension: WordPiece (all-MiniLM-L6-v2 + a Russian vocabulary) and byte-level BPE (tiny RoBERTa)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from _helpers import read_jsonl

from rumteb.recipe.tokenizer import extend_tokenizer

pytestmark = pytest.mark.usefixtures("single_threaded")


def _stsb(shared: Path, lang: str, split: str, limit: int) -> list[str]:
    rows = read_jsonl(shared / "train" / "stsb_multi_mt" / f"{lang}-{split}.jsonl")
    return [t for row in rows[:limit] for t in (row["sentence1"], row["sentence2"])]


def _train_wordpiece_donor(texts: list[str], folder: Path) -> Path:
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece
    from tokenizers.trainers import WordPieceTrainer

    # The base's normalisation (BERT uncased), so that the donor's pieces are ones the base pipeline can produce.
    tok = Tokenizer(WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(texts, WordPieceTrainer(vocab_size=3000, special_tokens=specials))
    folder.mkdir(parents=True)
    tok.save(str(folder / "tokenizer.json"))
    return folder


def _mean_of(matrix: torch.Tensor, ids: list[int]) -> torch.Tensor:
    return matrix[ids].mean(dim=0)


def test_wordpiece_extension_of_minilm(minilm_path: Path, shared_data: Path, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoTokenizer

    donor = _train_wordpiece_donor(_stsb(shared_data, "ru", "train", 3000), tmp_path / "donor")
    report = extend_tokenizer(minilm_path, donor, tmp_path / "ext")
    assert report.kind == "WordPiece"
    assert report.first_new_id == 30522
    assert len(report.new_tokens) > 500

    base_tok = AutoTokenizer.from_pretrained(str(minilm_path))
    ext_tok = AutoTokenizer.from_pretrained(str(report.out))
    base_vocab, ext_vocab = base_tok.get_vocab(), ext_tok.get_vocab()
    assert all(ext_vocab[t] == i for t, i in base_vocab.items())
    assert len(ext_vocab) == 30522 + len(report.new_tokens)

    english = _stsb(shared_data, "en", "test", 300)
    assert ext_tok(english)["input_ids"] == base_tok(english)["input_ids"]
    russian = _stsb(shared_data, "ru", "test", 300)
    base_count = sum(len(x) for x in base_tok(russian)["input_ids"])
    ext_count = sum(len(x) for x in ext_tok(russian)["input_ids"])
    assert ext_count < 0.8 * base_count

    base_emb = AutoModel.from_pretrained(str(minilm_path)).get_input_embeddings().weight.detach()
    ext_model = AutoModel.from_pretrained(str(report.out))
    ext_emb = ext_model.get_input_embeddings().weight.detach()
    assert ext_emb.shape[0] == len(ext_vocab)
    assert torch.equal(ext_emb[:30522], base_emb)
    word = next(t for t in report.new_tokens if not t.startswith("##") and len(t) > 4)
    torch.testing.assert_close(
        ext_emb[ext_vocab[word]], _mean_of(base_emb, base_tok(word, add_special_tokens=False)["input_ids"])
    )
    cont = next(t for t in report.new_tokens if t.startswith("##") and len(t) > 4)
    pieces = base_tok.tokenize(cont[2:])
    pieces[0] = "##" + pieces[0]
    torch.testing.assert_close(
        ext_emb[ext_vocab[cont]], _mean_of(base_emb, base_tok.convert_tokens_to_ids(pieces))
    )

    st = SentenceTransformer(str(report.out), device="cpu")
    st_base = SentenceTransformer(str(minilm_path), device="cpu")
    assert [type(m).__name__ for m in st] == [type(m).__name__ for m in st_base]
    torch.testing.assert_close(
        st.encode(english[:4], convert_to_tensor=True), st_base.encode(english[:4], convert_to_tensor=True)
    )
    assert st.encode(russian[:2]).shape == (2, 384)


def _train_bytelevel_bpe(texts: list[str], vocab_size: int) -> object:
    from tokenizers import Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import BPE
    from tokenizers.trainers import BpeTrainer

    tok = Tokenizer(BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    trainer = BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(texts, trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    return tok


def _tiny_roberta(texts: list[str], folder: Path) -> Path:
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaForMaskedLM

    tok = _train_bytelevel_bpe(texts, 800)
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=128,
    )
    torch.manual_seed(0)
    config = RobertaConfig(
        vocab_size=hf_tok.backend_tokenizer.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=132,
        pad_token_id=1,
        tie_word_embeddings=True,
    )
    RobertaForMaskedLM(config).save_pretrained(str(folder))
    hf_tok.save_pretrained(str(folder))
    return folder


def test_bytelevel_bpe_extension_of_tiny_roberta(shared_data: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    english_train = _stsb(shared_data, "en", "train", 2000)
    base = _tiny_roberta(english_train, tmp_path / "base")
    donor = tmp_path / "donor"
    donor.mkdir()
    _train_bytelevel_bpe(_stsb(shared_data, "ru", "train", 2000), 1500).save(str(donor / "tokenizer.json"))  # type: ignore[attr-defined]

    report = extend_tokenizer(base, donor, tmp_path / "ext")
    assert report.kind == "BPE"
    assert report.new_merges > 0

    base_tok = AutoTokenizer.from_pretrained(str(base))
    ext_tok = AutoTokenizer.from_pretrained(str(report.out))
    base_vocab, ext_vocab = base_tok.get_vocab(), ext_tok.get_vocab()
    assert all(ext_vocab[t] == i for t, i in base_vocab.items())
    english = _stsb(shared_data, "en", "test", 300)
    assert ext_tok(english)["input_ids"] == base_tok(english)["input_ids"]
    russian = _stsb(shared_data, "ru", "test", 300)
    assert sum(map(len, ext_tok(russian)["input_ids"])) < 0.7 * sum(map(len, base_tok(russian)["input_ids"]))
    assert ext_tok.decode(ext_tok(russian[0], add_special_tokens=False)["input_ids"]) == russian[0]

    base_model = AutoModelForMaskedLM.from_pretrained(str(base))
    ext_model = AutoModelForMaskedLM.from_pretrained(str(report.out))
    base_emb = base_model.get_input_embeddings().weight.detach()
    ext_emb = ext_model.get_input_embeddings().weight.detach()
    assert torch.equal(ext_emb[: base_emb.shape[0]], base_emb)
    # A whole-word token: its text through the base tokenizer gives the pieces whose rows are averaged.
    word = next(
        t
        for t in report.new_tokens
        if t.startswith("Ġ") and "\ufffd" not in ext_tok.convert_tokens_to_string([t]) and len(t) > 4
    )
    text = ext_tok.convert_tokens_to_string([word])
    ids = base_tok(text, add_special_tokens=False)["input_ids"]
    assert len(ids) > 1
    torch.testing.assert_close(ext_emb[ext_vocab[word]], _mean_of(base_emb, ids))
    # tied output embeddings follow the input rows
    assert torch.equal(ext_model.get_output_embeddings().weight.detach(), ext_emb)


def test_max_new_tokens_and_validation(shared_data: Path, tmp_path: Path) -> None:
    base = _tiny_roberta(_stsb(shared_data, "en", "train", 500), tmp_path / "base")
    donor = tmp_path / "donor"
    donor.mkdir()
    _train_bytelevel_bpe(_stsb(shared_data, "ru", "train", 500), 1000).save(str(donor / "tokenizer.json"))  # type: ignore[attr-defined]
    report = extend_tokenizer(base, donor, tmp_path / "ext", max_new_tokens=50)
    assert len(report.new_tokens) == 50
    from transformers import AutoTokenizer

    assert len(AutoTokenizer.from_pretrained(str(report.out))) == report.first_new_id + 50

    with pytest.raises(ValueError, match=r"The 'max_new_tokens' parameter of extend_tokenizer must be"):
        extend_tokenizer(base, donor, tmp_path / "x", max_new_tokens=-1)
    with pytest.raises(
        ValueError, match=r"The 'out' parameter of extend_tokenizer must be a new or empty folder"
    ):
        extend_tokenizer(base, donor, report.out)
    wordpiece = _train_wordpiece_donor(["привет мир"] * 10, tmp_path / "wp")
    with pytest.raises(ValueError, match=r"must be a tokenizer of the base's type \(BPE.*Got a WordPiece"):
        extend_tokenizer(base, wordpiece, tmp_path / "y")


def test_cli_extend_tokenizer_handler(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:

    from rumteb.cli import build_parser

    parser = build_parser()
    base = _tiny_roberta(_stsb(shared_data, "en", "train", 300), tmp_path / "base")
    donor = tmp_path / "donor"
    donor.mkdir()
    _train_bytelevel_bpe(_stsb(shared_data, "ru", "train", 300), 700).save(str(donor / "tokenizer.json"))  # type: ignore[attr-defined]
    args = parser.parse_args(
        ["extend-tokenizer", str(base), str(donor), "--out", str(tmp_path / "o"), "--max-new-tokens", "20"]
    )
    assert args.handler(args) == 0
    assert "BPE: added 20 tokens" in capsys.readouterr().out
