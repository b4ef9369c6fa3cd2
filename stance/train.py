"""Fine-tuning a StanceModel on annotated articles with the Hugging Face Trainer.

    stance train training/configs/finetune-mini.yaml epochs=5 seed=2

The loss of all three heads lives in `StanceModel.forward`, so the stock Trainer
needs no subclass: it brings checkpoints and resume, bf16, DDP under torchrun,
length grouping and logging. Early stopping watches dev stance macro-F1.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from stance.encoding import IGNORE, WindowCollator, encode_articles, window_row
from stance.metrics import fit_temperature
from stance.modeling import StanceModel, load_pretrained_checked, save_atomically
from stance.schema import ROLES, STANCES, article_from_dict

logger = logging.getLogger("stance")


@dataclass
class TrainConfig:
    """Settings of one fine-tuning run (YAML in training/configs/, key=value overrides)."""

    model: str = "DTAI-KULeuven/robbert-2023-dutch-base"
    """Encoder to start from (hub id or directory), or a StanceModel directory to fine-tune further."""
    train_file: str = "training/data/train.jsonl"
    dev_file: str = "training/data/dev.jsonl"
    output_dir: str = "runs/finetune"
    """Checkpoints go here; the final model goes to OUTPUT_DIR/model (written atomically)."""
    max_seq_length: int = 512
    """Article window in tokens (capped at what the encoder's positions hold)."""
    context_tokens: int | None = None
    """Text before a claim when an article needs several windows (None: a quarter window)."""
    epochs: float = 6.0
    max_steps: int = -1
    """Stop after this many optimiser steps (-1: run all epochs)."""
    batch_size: int = 8
    """Windows per optimiser step (a window holds a whole short article and all its claims)."""
    learning_rate: float = 5e-5
    head_learning_rate: float | None = None
    """Learning rate of the new heads (None: same as learning_rate)."""
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    stance_loss_weight: float = 1.0
    role_loss_weight: float = 1.0
    span_loss_weight: float = 1.0
    class_weights: bool = True
    """Weight stance and role classes by inverse frequency (sqrt-damped) on the train split."""
    early_stopping_patience: int = 3
    """Evaluations without a better dev stance macro-F1 before training stops (0: never stop early)."""
    eval_every: str = "epoch"
    """'epoch' or a number of steps between dev evaluations and checkpoints."""
    seed: int = 42
    bf16: bool | None = None
    """Mixed precision: None = bf16 on CUDA when supported, fp32 on the CPU."""
    logging_steps: int = 20
    save_total_limit: int = 2
    resume: bool = True
    """Resume from the last checkpoint in output_dir when there is one."""
    progress: bool = True
    reinit_encoder: bool = False
    """Ablation: throw away the encoder's pretrained weights (same architecture, random start)."""
    card_title: str = "stance model"


def load_windows(path: str, tokenizer, cfg: TrainConfig, max_length: int):
    """Spec JSON Lines -> a `datasets.Dataset` of labelled article windows (token ids, claim ranges, labels)."""
    from datasets import load_dataset

    raw = load_dataset("json", data_files=path, split="train")

    def explode(batch):
        articles = [article_from_dict({k: batch[k][i] for k in batch}, f"{path} record {batch['id'][i]!r}")
                    for i in range(len(batch["id"]))]
        windows = encode_articles(tokenizer, articles, max_length=max_length, context_tokens=cfg.context_tokens,
                                  with_labels=True)
        rows = [window_row(w) for w in windows]
        return {k: [r[k] for r in rows] for k in rows[0]} if rows else {}

    return raw.map(explode, batched=True, remove_columns=raw.column_names, desc=f"windows of {Path(path).name}")


def _class_weights(labels: list[int], n: int) -> list[float]:
    counts = np.bincount(np.asarray(labels), minlength=n).astype(float)
    w = np.where(counts > 0, np.sqrt(counts.sum() / np.maximum(counts, 1) / n), 0.0)
    return [float(x) for x in w / w[counts > 0].mean()]


def compute_metrics(eval_pred) -> dict[str, float]:
    """Dev scores on gold claims: stance and role macro-F1, exact speaker-span accuracy."""
    from sklearn.metrics import f1_score

    stance_logits, role_logits, start_logits, end_logits = eval_pred.predictions[:4]
    stance_y, role_y, start_y, end_y = eval_pred.label_ids
    start_p, end_p = start_logits.argmax(-1), end_logits.argmax(-1)
    return {
        "stance_macro_f1": float(f1_score(stance_y, stance_logits.argmax(-1), average="macro", labels=range(len(STANCES)), zero_division=0)),
        "role_macro_f1": float(f1_score(role_y, role_logits.argmax(-1), average="macro", labels=sorted(set(role_y.tolist())), zero_division=0)),
        # Claims whose speaker lies outside their window (-100) are left out.
        "speaker_span_exact": float(((start_p == start_y) & (end_p == end_y))[start_y != IGNORE].mean()),
    }


def model_card(cfg: TrainConfig, metrics: dict, base: str, n_train: int) -> str:
    """A README with Hub metadata for the trained model."""
    rows = "\n".join(f"| {k.removeprefix('eval_')} | {v:.4f} |" for k, v in sorted(metrics.items()) if isinstance(v, float))
    return f"""---
language: nl
license: mit
library_name: transformers
pipeline_tag: text-classification
base_model: {base}
tags: [stance, speaker-attribution, dutch, news, security]
metrics: [f1, accuracy]
---
# {cfg.card_title}

A `stance` model: for each claim of a Dutch or Flemish news article it predicts the
stance toward a technology vendor's security risk ({', '.join(STANCES)}), the speaker's
role ({', '.join(ROLES)}) and the speaker's mention (start/end pointer; `<s>` = none).
Load it with `stance.load(PATH)`.

Fine-tuned from `{base}` on {n_train} claims of `{cfg.train_file}` with the settings in
`train_config.json`.

## Dev scores (gold claim spans)
| metric | value |
|---|---|
{rows}
"""


def train(cfg: TrainConfig) -> Path:
    """Fine-tune as configured and write the final model; return its directory."""
    import torch
    from transformers import AutoTokenizer, EarlyStoppingCallback, Trainer, TrainingArguments, set_seed
    from transformers.trainer_utils import get_last_checkpoint

    set_seed(cfg.seed)
    out = Path(cfg.output_dir)
    tokenizer = load_pretrained_checked(AutoTokenizer, cfg.model)
    heads = dict(max_seq_length=cfg.max_seq_length, context_tokens=cfg.context_tokens,
                 stance_loss_weight=cfg.stance_loss_weight, role_loss_weight=cfg.role_loss_weight,
                 span_loss_weight=cfg.span_loss_weight)
    if (Path(cfg.model) / "config.json").exists() and json.loads((Path(cfg.model) / "config.json").read_text()).get("model_type") == "stance":
        model = StanceModel.from_pretrained(cfg.model)
        heads["max_seq_length"] = min(cfg.max_seq_length, model.config.max_seq_length)
        for k, v in heads.items():
            setattr(model.config, k, v)
    else:
        model = StanceModel.from_encoder(cfg.model, **heads)
    window = model.config.max_seq_length
    train_ds = load_windows(cfg.train_file, tokenizer, cfg, window)
    dev_ds = load_windows(cfg.dev_file, tokenizer, cfg, window)
    if cfg.class_weights:
        model.config.stance_class_weights = _class_weights([y for ys in train_ds["stance"] for y in ys], len(STANCES))
        model.config.role_class_weights = _class_weights([y for ys in train_ds["role"] for y in ys], len(ROLES))
    base = getattr(model.config, "base_model", cfg.model)
    if cfg.reinit_encoder:
        model.encoder.apply(model._init_weights)
        base = f"{base} (weights re-initialised: no pretraining)"

    bf16 = cfg.bf16 if cfg.bf16 is not None else bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    by_steps = cfg.eval_every != "epoch"
    args = TrainingArguments(
        output_dir=str(out), num_train_epochs=cfg.epochs, max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size, per_device_eval_batch_size=cfg.batch_size * 2,
        learning_rate=cfg.learning_rate, weight_decay=cfg.weight_decay, warmup_steps=0, lr_scheduler_type="linear",
        eval_strategy="steps" if by_steps else "epoch", save_strategy="steps" if by_steps else "epoch",
        eval_steps=int(cfg.eval_every) if by_steps else None, save_steps=int(cfg.eval_every) if by_steps else None,
        load_best_model_at_end=True, metric_for_best_model="stance_macro_f1", greater_is_better=True,
        save_total_limit=cfg.save_total_limit, logging_steps=cfg.logging_steps, seed=cfg.seed, data_seed=cfg.seed,
        bf16=bf16, use_cpu=not torch.cuda.is_available(), report_to=[], disable_tqdm=not cfg.progress,
        label_names=["stance_labels", "role_labels", "start_positions", "end_positions"],
        remove_unused_columns=False, train_sampling_strategy="group_by_length", dataloader_num_workers=0,
        save_only_model=False,
    )
    collator = WindowCollator(tokenizer.pad_token_id)
    trainer = Trainer(
        model=model, args=args, train_dataset=train_ds, eval_dataset=dev_ds, data_collator=collator,
        processing_class=tokenizer, compute_metrics=compute_metrics,
        callbacks=[EarlyStoppingCallback(cfg.early_stopping_patience)] if cfg.early_stopping_patience > 0 else [],
    )
    steps_total = trainer.args.max_steps if cfg.max_steps > 0 else math.ceil(len(train_ds) / cfg.batch_size) * math.ceil(cfg.epochs)
    trainer.args.warmup_steps = int(cfg.warmup_ratio * steps_total)
    if cfg.head_learning_rate is not None:
        head_params = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
        enc_params = [p for n, p in model.named_parameters() if n.startswith("encoder.")]
        trainer.optimizer = torch.optim.AdamW(
            [{"params": enc_params, "lr": cfg.learning_rate}, {"params": head_params, "lr": cfg.head_learning_rate}],
            weight_decay=cfg.weight_decay)
    last = get_last_checkpoint(str(out)) if cfg.resume and out.is_dir() else None
    if last:
        logger.info("resuming from %s", last)
    trainer.train(resume_from_checkpoint=last)
    metrics = trainer.evaluate()
    # Temperature scaling on dev, stored with the model, so analyze() returns calibrated probabilities.
    dev_pred = trainer.predict(dev_ds)
    model.config.stance_temperature = fit_temperature(dev_pred.predictions[0], dev_pred.label_ids[0])
    metrics["stance_temperature"] = model.config.stance_temperature
    final = out / "model"
    if trainer.is_world_process_zero():
        def write(d: str) -> None:
            trainer.model.config.stance_temperature = model.config.stance_temperature
            trainer.model.save_pretrained(d)
            tokenizer.save_pretrained(d)
            Path(d, "train_config.json").write_text(json.dumps(asdict(cfg), indent=2))
            Path(d, "dev_metrics.json").write_text(json.dumps(metrics, indent=2))
            Path(d, "README.md").write_text(model_card(cfg, metrics, base, sum(len(ys) for ys in train_ds["stance"])))

        save_atomically(final, write)
    trainer.accelerator.wait_for_everyone()
    return final


__all__ = ["TrainConfig", "train", "load_windows", "compute_metrics"]
