"""Masked-language-model pretraining: the project's own tokenizer and encoder.

`stance pretrain CONFIG` trains a RoBERTa encoder with dynamic masking on plain
text streamed from files (.txt, .txt.xz, .txt.gz, or spec .jsonl corpora), either
from scratch (a new byte-level BPE tokenizer with RobBERT's special-token layout
and a small RobBERT-architecture model) or continued from a pretrained encoder
(domain-adaptive pretraining of RobBERT on a news archive, same command).
It runs on the HF Trainer, so it resumes after a crash from the last checkpoint.
"""

from __future__ import annotations

import gzip
import json
import logging
import lzma
import math
import random
import time
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

logger = logging.getLogger("stance")

# RobBERT-2023's layout: <s>=0, <pad>=1, <unk>=2, </s>=3, <mask>=4.
SPECIAL_TOKENS = ["<s>", "<pad>", "<unk>", "</s>", "<mask>"]


@dataclass
class PretrainConfig:
    """Settings of one pretraining run (YAML in training/configs/, overridable on the command line)."""

    output_dir: str = "runs/pretrain"
    """Where checkpoints, logs, the loss curve and the final encoder go (final: OUTPUT_DIR/final)."""
    text_files: list[str] = field(default_factory=list)
    """Text sources: .txt/.txt.xz/.txt.gz (one paragraph a line) or spec .jsonl (article texts)."""
    text_weights: list[float] = field(default_factory=list)
    """Sampling weight of each source (empty: proportional to nothing, i.e. equal weights)."""
    from_encoder: str | None = None
    """Continue from this pretrained encoder (hub id or directory); None trains from scratch."""
    tokenizer: str | None = None
    """Existing tokenizer directory; None with from_encoder=None trains a new one."""
    vocab_size: int = 16000
    num_hidden_layers: int = 4
    hidden_size: int = 256
    num_attention_heads: int = 4
    intermediate_size: int = 1024
    max_position_embeddings: int = 258
    seq_len: int = 128
    """Tokens per training sequence, including <s> and </s>."""
    batch_size: int = 32
    learning_rate: float = 5e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    max_steps: int = 10000
    max_minutes: float | None = None
    """Stop (and save) after this many minutes of training, whatever max_steps says."""
    mlm_probability: float = 0.15
    whole_word_mask: bool = False
    bf16: bool = False
    seed: int = 13
    save_steps: int = 500
    eval_steps: int = 500
    logging_steps: int = 50
    eval_sequences: int = 256
    """Held-out sequences (1 line in 100 is held out) for loss and masked-token accuracy."""
    tokenizer_train_lines: int = 400000
    """Lines read to train a new tokenizer."""


def iter_texts(path: str | Path) -> Iterator[str]:
    """Stream the non-empty paragraphs of a text file or the texts of a spec JSON Lines file."""
    path = Path(path)
    name = path.name
    opener = lzma.open if name.endswith(".xz") else gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if ".jsonl" in name:
                if line.strip():
                    text = json.loads(line).get("text") or ""
                    yield from (p.strip() for p in text.split("\n") if p.strip())
            elif line.strip():
                yield line.strip()


def _is_held_out(line: str) -> bool:
    return zlib.crc32(line.encode("utf-8")) % 100 == 0


def train_tokenizer(files: list[str], vocab_size: int, out_dir: str | Path, max_lines: int = 400000):
    """Train a byte-level BPE tokenizer on the files and save it as a RoBERTa tokenizer."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizerFast

    def lines() -> Iterator[str]:
        per_file = max_lines // max(len(files), 1)
        for f in files:
            for i, line in enumerate(iter_texts(f)):
                if i >= per_file:
                    break
                if not _is_held_out(line):
                    yield line

    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    bpe.train_from_iterator(lines(), vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS)
    # transformers 5 ignores vocab_file=/merges_file=; wrap the trained object instead.
    tok = RobertaTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                               cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    tok.model_max_length = 512
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(out_dir)
    return tok


class PackedText:
    """An endless, shuffled stream of fixed-length token sequences mixed from several sources.

    Paragraphs are tokenized in blocks and packed, separated by </s>, into sequences of
    `seq_len` tokens framed by <s> ... </s> (RoBERTa's FULL-SENTENCES packing).
    """

    def __init__(self, tokenizer, files: list[str], weights: list[float], seq_len: int, seed: int, held_out: bool = False, with_offsets: bool = False):
        self.tokenizer, self.files, self.seq_len, self.seed = tokenizer, files, seq_len, seed
        self.weights = weights or [1.0] * len(files)
        self.held_out, self.with_offsets = held_out, with_offsets

    def _lines(self, path: str, rng: random.Random) -> Iterator[str]:
        while True:  # epochs
            buf: list[str] = []
            for line in iter_texts(path):
                if _is_held_out(line) == self.held_out:
                    buf.append(line)
                    if len(buf) >= 2048:
                        rng.shuffle(buf)
                        yield from buf
                        buf = []
            rng.shuffle(buf)
            yield from buf
            if self.held_out:
                return

    def __iter__(self) -> Iterator[dict]:
        rng = random.Random(self.seed)
        sources = [self._lines(f, random.Random(self.seed + i)) for i, f in enumerate(self.files)]
        tok, body = self.tokenizer, self.seq_len - 2
        ids: list[int] = []
        offs: list[tuple[int, int]] = []
        while sources:
            block = []
            for _ in range(256):
                k = rng.choices(range(len(sources)), weights=self.weights[: len(sources)])[0]
                try:
                    block.append(next(sources[k]))
                except StopIteration:  # only held-out streams end
                    sources.pop(k)
                    self.weights = self.weights[:k] + self.weights[k + 1 :]
                    if not sources:
                        break
            enc = tok(block, add_special_tokens=False, return_offsets_mapping=self.with_offsets)
            for i, row in enumerate(enc["input_ids"]):
                ids.extend(row + [tok.sep_token_id])
                if self.with_offsets:
                    offs.extend([tuple(o) for o in enc["offset_mapping"][i]] + [(0, 0)])
                while len(ids) >= body:
                    item = {"input_ids": [tok.cls_token_id] + ids[:body] + [tok.sep_token_id]}
                    if self.with_offsets:
                        item["offset_mapping"] = [(0, 0)] + offs[:body] + [(0, 0)]
                        offs = offs[body:]
                    ids = ids[body:]
                    yield item


def _masked_accuracy(eval_pred) -> dict[str, float]:
    preds, labels = eval_pred.predictions, eval_pred.label_ids
    mask = labels != -100
    return {"masked_accuracy": float((preds[mask] == labels[mask]).mean()) if mask.any() else float("nan")}


def _argmax_logits(logits, labels):
    return logits.argmax(dim=-1)


def plot_loss_curve(log_history: list[dict], path: str | Path) -> None:
    """Write the training and held-out loss over steps as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [(h["step"], h["loss"]) for h in log_history if "loss" in h]
    held = [(h["step"], h["eval_loss"]) for h in log_history if "eval_loss" in h]
    acc = [(h["step"], h["eval_masked_accuracy"]) for h in log_history if "eval_masked_accuracy" in h]
    fig, ax = plt.subplots(figsize=(7, 4))
    if train:
        ax.plot(*zip(*train), label="training loss")
    if held:
        ax.plot(*zip(*held), "o-", label="held-out loss")
    ax.set_xlabel("step")
    ax.set_ylabel("MLM loss")
    if acc:
        ax2 = ax.twinx()
        ax2.plot(*zip(*acc), "s--", color="tab:green", label="held-out masked accuracy")
        ax2.set_ylabel("masked-token accuracy")
        ax2.legend(loc="center right")
    ax.legend(loc="upper right")
    ax.set_title("Masked-language-model pretraining")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def pretrain(cfg: PretrainConfig, progress: bool = True) -> Path:
    """Run MLM pretraining as configured; return the directory of the final encoder."""
    import torch
    from torch.utils.data import IterableDataset
    from transformers import (AutoModelForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling, RobertaConfig,
                              RobertaForMaskedLM, Trainer, TrainerCallback, TrainingArguments)
    from transformers.trainer_utils import get_last_checkpoint

    from stance.modeling import load_pretrained_checked, save_atomically

    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pretrain_config.json").write_text(json.dumps(asdict(cfg), indent=2))
    if not cfg.text_files:
        raise ValueError("PretrainConfig.text_files is empty: give at least one text file to pretrain on")
    missing = [f for f in cfg.text_files if not Path(f).exists()]
    if missing:
        raise FileNotFoundError(f"pretraining text not found: {', '.join(missing)}")
    torch.manual_seed(cfg.seed)

    if cfg.from_encoder:
        tokenizer = load_pretrained_checked(AutoTokenizer, cfg.tokenizer or cfg.from_encoder)
        model = load_pretrained_checked(AutoModelForMaskedLM, cfg.from_encoder)
    else:
        tok_dir = cfg.tokenizer or str(out / "tokenizer")
        if cfg.tokenizer or (Path(tok_dir) / "tokenizer.json").exists():
            tokenizer = AutoTokenizer.from_pretrained(tok_dir)
        else:
            t0 = time.time()
            tokenizer = train_tokenizer(cfg.text_files, cfg.vocab_size, tok_dir, cfg.tokenizer_train_lines)
            logger.info("trained a %d-token BPE tokenizer in %.0f s", len(tokenizer), time.time() - t0)
        mconf = RobertaConfig(vocab_size=len(tokenizer), hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_hidden_layers,
                              num_attention_heads=cfg.num_attention_heads, intermediate_size=cfg.intermediate_size,
                              max_position_embeddings=cfg.max_position_embeddings, type_vocab_size=1, layer_norm_eps=1e-5,
                              bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                              pad_token_id=tokenizer.pad_token_id)
        model = RobertaForMaskedLM(mconf)

    class Stream(IterableDataset):
        def __init__(self, packed):
            self.packed = packed

        def __iter__(self):
            return iter(self.packed)

    train_data = Stream(PackedText(tokenizer, cfg.text_files, cfg.text_weights, cfg.seq_len, cfg.seed, with_offsets=cfg.whole_word_mask))
    held = PackedText(tokenizer, cfg.text_files, cfg.text_weights, cfg.seq_len, cfg.seed, held_out=True, with_offsets=cfg.whole_word_mask)
    eval_data = [x for _, x in zip(range(cfg.eval_sequences), held)]
    # Whole-word masking in transformers masks every chosen word fully with <mask> (no random tokens).
    replace = dict(mask_replace_prob=1.0, random_replace_prob=0.0) if cfg.whole_word_mask else {}
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=cfg.mlm_probability, whole_word_mask=cfg.whole_word_mask,
                                               seed=cfg.seed, **replace)

    args = TrainingArguments(
        output_dir=str(out), max_steps=cfg.max_steps, per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size, learning_rate=cfg.learning_rate, weight_decay=cfg.weight_decay,
        warmup_steps=int(cfg.warmup_ratio * cfg.max_steps), lr_scheduler_type="linear", bf16=cfg.bf16, seed=cfg.seed,
        logging_steps=cfg.logging_steps, eval_strategy="steps", eval_steps=cfg.eval_steps, save_strategy="steps",
        save_steps=cfg.save_steps, save_total_limit=2, report_to=[], disable_tqdm=not progress,
        # bf16 on a CPU needs use_cpu (autocast on the CPU); on CUDA it is the GPU's bf16.
        use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0, remove_unused_columns=False, optim="adamw_torch_fused" if torch.cuda.is_available() else "adamw_torch",
    )

    class TimeBudget(TrainerCallback):
        """Stops training (with a checkpoint) once the wall-clock budget is spent."""

        def __init__(self, minutes: float | None):
            self.deadline = None if minutes is None else time.time() + 60 * minutes

        def on_step_end(self, args, state, control, **kw):
            if self.deadline is not None and time.time() > self.deadline:
                control.should_training_stop = True
                control.should_save = True
                control.should_evaluate = True
            return control

    trainer = Trainer(model=model, args=args, train_dataset=train_data, eval_dataset=eval_data, data_collator=collator,
                      processing_class=tokenizer, compute_metrics=_masked_accuracy,
                      preprocess_logits_for_metrics=_argmax_logits, callbacks=[TimeBudget(cfg.max_minutes)])
    last = get_last_checkpoint(str(out)) if any(out.glob("checkpoint-*")) else None
    if last:
        logger.info("resuming from %s", last)
    trainer.train(resume_from_checkpoint=last)
    metrics = trainer.evaluate()
    history = trainer.state.log_history
    (out / "log_history.json").write_text(json.dumps(history, indent=1))
    plot_loss_curve(history, out / "loss_curve.png")
    final = out / "final"
    if trainer.is_world_process_zero():
        save_atomically(final, lambda d: (trainer.model.save_pretrained(d), tokenizer.save_pretrained(d),
                                          (Path(d) / "pretrain_metrics.json").write_text(json.dumps(
                                              {**metrics, "steps": trainer.state.global_step,
                                               "perplexity": math.exp(min(metrics["eval_loss"], 50))}, indent=2))))
    return final
