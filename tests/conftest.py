"""Shared fixtures: a tiny tokenizer and tiny RobBERT-architecture encoder, built offline."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fixture_corpus import make_corpus  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
ROBBERT_DIR = SHARED / "robbert-2023-dutch-base"
REAL_DEV = SHARED / "eval" / "real-dev.jsonl"

DUTCH = [
    "De minister waarschuwt voor spionage door Chinese leveranciers.",
    "„Er is geen bewijs”, zei de woordvoerder van het bedrijf.",
    "Volgens de AIVD is het risico reëel, aldus de dienst.",
    "Hij ziet geen reden om Huawei te weren uit het 5G-netwerk.",
    "'Wij zijn onafhankelijk', stelt topman Chen. «Dat is duidelijk.»",
    ",,Dat klopt niet,'' zegt zij. “Echt niet.” ‘Nooit.’",
]


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """Tiny models run fastest on one thread, and CI shares its two cores with subprocesses."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory) -> Path:
    """A directory with a tiny BPE tokenizer and a 2-layer, hidden-32 RoBERTa encoder."""
    from transformers import RobertaConfig, RobertaModel

    from stance.pretrain import train_tokenizer

    d = tmp_path_factory.mktemp("tiny-encoder")
    corpus = d / "text.txt"
    lines = DUTCH + [a.text for a in make_corpus(60, seed=1)]
    corpus.write_text("\n".join(lines * 3), encoding="utf-8")
    tok = train_tokenizer([str(corpus)], vocab_size=1000, out_dir=d)
    config = RobertaConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                           intermediate_size=64, max_position_embeddings=258, pad_token_id=tok.pad_token_id,
                           bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    import torch

    torch.manual_seed(0)
    RobertaModel(config).save_pretrained(d)
    corpus.unlink()
    return d


@pytest.fixture(scope="session")
def _tiny_model(tiny_encoder_dir):
    from stance.modeling import StanceModel

    return StanceModel.from_encoder(str(tiny_encoder_dir), max_seq_length=128)


@pytest.fixture
def tiny_model(_tiny_model):
    """A fresh deep copy of an untrained tiny StanceModel."""
    return copy.deepcopy(_tiny_model)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory, _tiny_model, tiny_tokenizer) -> Path:
    """A saved untrained tiny StanceModel with its tokenizer: what `load()` and `--model` take."""
    d = tmp_path_factory.mktemp("tiny-stance-model")
    _tiny_model.save_pretrained(d)
    tiny_tokenizer.save_pretrained(d)
    return d


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_encoder_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_encoder_dir)


@pytest.fixture(scope="session")
def fixture_corpus_files(tmp_path_factory):
    """train/dev JSON Lines files of the separable template corpus."""
    from stance.schema import write_jsonl

    d = tmp_path_factory.mktemp("fixture-corpus")
    write_jsonl(make_corpus(48, seed=0), d / "train.jsonl")
    write_jsonl(make_corpus(12, seed=7), d / "dev.jsonl")
    return d
