"""The CUDA paths: analysis in fp32 and bf16, fine-tuning in bf16, a batch job (skipped without a GPU)."""

from __future__ import annotations

import json

import pytest
import torch

from stance.schema import STANCES, article_from_dict, article_to_dict, read_jsonl

from fixture_corpus import make_corpus

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def test_cuda_fp32_matches_the_cpu(model_dir):
    from stance.inference import load

    texts = [a.text for a in make_corpus(8, seed=11)]
    cpu = load(model_dir, device="cpu").analyze_many(texts)
    gpu_analyzer = load(model_dir, device="cuda")
    assert next(gpu_analyzer.model.parameters()).device.type == "cuda"
    gpu = gpu_analyzer.analyze_many(texts)
    for a, b in zip(cpu, gpu):
        assert [(c.start, c.end) for c in a.claims] == [(c.start, c.end) for c in b.claims]
        for x, y in zip(a.claims, b.claims):
            for label in STANCES:
                assert x.stance_probs[label] == pytest.approx(y.stance_probs[label], abs=2e-3)


def test_cuda_bf16_gives_valid_records(model_dir):
    from stance.inference import load

    texts = [a.text for a in make_corpus(8, seed=12)]
    for article in load(model_dir, device="cuda", precision="bf16").analyze_many(texts, batch_size=3):
        assert article_from_dict(article_to_dict(article)).claims == article.claims
        for claim in article.claims:
            assert sum(claim.stance_probs.values()) == pytest.approx(1, abs=1e-3)


def test_int8_is_refused_on_cuda(model_dir):
    from stance.inference import load

    with pytest.raises(ValueError, match="int8"):
        load(model_dir, device="cuda", precision="int8")


def test_training_on_cuda_uses_bf16_and_saves_a_loadable_model(tiny_encoder_dir, fixture_corpus_files, tmp_path):
    from stance.inference import load
    from stance.train import TrainConfig, train

    cfg = TrainConfig(model=str(tiny_encoder_dir), train_file=str(fixture_corpus_files / "train.jsonl"),
                      dev_file=str(fixture_corpus_files / "dev.jsonl"), output_dir=str(tmp_path / "run"),
                      max_seq_length=128, max_steps=6, batch_size=4, learning_rate=3e-3, warmup_ratio=0.0,
                      early_stopping_patience=0, progress=False, eval_every="3")
    final = train(cfg)
    assert json.loads((final / "dev_metrics.json").read_text())["eval_stance_macro_f1"] >= 0
    arts = read_jsonl(fixture_corpus_files / "dev.jsonl")[:2]
    assert all(a.claims for a in load(final, device="cuda").analyze_many([a.text for a in arts]))


def test_batch_job_on_cuda(model_dir, tmp_path):
    from stance.batch import JobConfig, run_job

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"a{i}", "text": a.text}, ensure_ascii=False) + "\n"
                           for i, a in enumerate(make_corpus(20, seed=13))), encoding="utf-8")
    summary = run_job(JobConfig(inputs=(str(src),), output_dir=str(tmp_path / "out"), model=str(model_dir),
                                device="cuda", precision="bf16", progress=False))
    assert summary.articles == 20 and summary.errors == 0
