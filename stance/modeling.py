"""StanceConfig / StanceModel: one encoder pass per article window, stance, role and speaker heads per claim."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse


class ModelNotAvailableError(OSError):
    """The model is neither a local directory, nor cached, nor reachable on the Hub."""


def _hub_reachable(timeout: float = 3.0) -> bool:
    # A TCP connect with a short timeout: a plain from_pretrained retries for 23 s, and on
    # a network that drops packets it hangs for minutes.
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)), timeout=timeout):
            return True
    except OSError:
        return False


def load_pretrained_checked(cls, name_or_path: str, **kwargs):
    """`cls.from_pretrained` that fails within seconds, with advice, when the model cannot be had.

    A local directory loads directly; a hub id loads from the local cache if it is there,
    otherwise from the Hub when it is reachable. Never passes trust_remote_code.
    """
    kwargs.pop("trust_remote_code", None)
    if Path(name_or_path).is_dir():
        return cls.from_pretrained(name_or_path, local_files_only=True, **kwargs)
    if Path(name_or_path).exists() or name_or_path.startswith((".", "/", "~")):
        raise ModelNotAvailableError(f"{name_or_path!r} is not a model directory")
    try:
        return cls.from_pretrained(name_or_path, local_files_only=True, **kwargs)
    except OSError:
        pass
    offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
    if offline or not _hub_reachable():
        why = "HF_HUB_OFFLINE is set" if offline else "the Hugging Face Hub cannot be reached from this machine"
        raise ModelNotAvailableError(
            f"cannot load {name_or_path!r}: it is not in the local Hugging Face cache and {why}. "
            f"Download it on a machine with internet access (`hf download {name_or_path} --local-dir DIR`), "
            f"copy DIR here and pass its path instead of the hub id."
        )
    return cls.from_pretrained(name_or_path, **kwargs)


def save_atomically(final_dir: str | Path, write: Callable[[str], object]) -> Path:
    """Write a model directory with `write(tmp_dir)`, then move it into place in one rename."""
    final_dir = Path(final_dir)
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final_dir.name}.", dir=final_dir.parent))
    try:
        write(str(tmp))
        if final_dir.exists():
            old = final_dir.with_name(f".{final_dir.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final_dir, old)
            os.replace(tmp, final_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final_dir


# ---------------------------------------------------------------------------
# The model

import math  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel  # noqa: E402
from transformers.utils import ModelOutput  # noqa: E402

from stance.encoding import IGNORE  # noqa: E402
from stance.schema import ROLES, STANCES  # noqa: E402


class StanceConfig(PretrainedConfig):
    """Configuration of a StanceModel: the encoder's config, the label sets and the window.

    The label lists are the logit order of the heads; loading checks them against the spec.
    `max_seq_length` is the article window in tokens; `context_tokens` the text a claim
    gets before it when an article needs several windows (None: a quarter window).
    """

    model_type = "stance"

    def __init__(
        self,
        encoder: dict | None = None,
        stance_labels: list[str] | None = None,
        role_labels: list[str] | None = None,
        max_seq_length: int = 512,
        context_tokens: int | None = None,
        max_speaker_tokens: int = 16,
        classifier_dropout: float = 0.1,
        stance_loss_weight: float = 1.0,
        role_loss_weight: float = 1.0,
        span_loss_weight: float = 1.0,
        stance_class_weights: list[float] | None = None,
        role_class_weights: list[float] | None = None,
        stance_temperature: float = 1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.encoder = encoder or {}
        self.stance_labels = list(stance_labels or STANCES)
        self.role_labels = list(role_labels or ROLES)
        self.max_seq_length = max_seq_length
        self.context_tokens = context_tokens
        self.max_speaker_tokens = max_speaker_tokens
        self.classifier_dropout = classifier_dropout
        self.stance_loss_weight = stance_loss_weight
        self.role_loss_weight = role_loss_weight
        self.span_loss_weight = span_loss_weight
        self.stance_class_weights = stance_class_weights
        self.role_class_weights = role_class_weights
        self.stance_temperature = stance_temperature

    def encoder_config(self) -> PretrainedConfig:
        """The encoder's own config object (RoBERTa, BERT, XLM-R, ...)."""
        cfg = dict(self.encoder)
        return AutoConfig.for_model(cfg.pop("model_type", "roberta"), **cfg)

    def check_labels(self) -> None:
        """Raise if the stored label sets are not the spec's (a model for another scheme)."""
        if sorted(self.stance_labels) != sorted(STANCES) or len(set(self.stance_labels)) != len(STANCES):
            raise ValueError(f"model stance labels {self.stance_labels} differ from the spec's {list(STANCES)}")
        if sorted(self.role_labels) != sorted(ROLES) or len(set(self.role_labels)) != len(ROLES):
            raise ValueError(f"model role labels {self.role_labels} differ from the spec's {list(ROLES)}")


@dataclass
class StanceOutput(ModelOutput):
    """Per-claim logits of the three heads (claims flat over the batch), and the summed loss with labels."""

    loss: torch.Tensor | None = None
    stance_logits: torch.Tensor | None = None
    role_logits: torch.Tensor | None = None
    start_logits: torch.Tensor | None = None
    end_logits: torch.Tensor | None = None


class ClassificationHead(nn.Module):
    """Claim-level head, shaped like RobertaClassificationHead (dense, tanh, projection)."""

    def __init__(self, n_in: int, hidden: int, n_labels: int, dropout: float):
        super().__init__()
        self.dense = nn.Linear(n_in, hidden)
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(hidden, n_labels)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = self.dropout(features)
        x = torch.tanh(self.dense(x))
        return self.out_proj(self.dropout(x))


DISTANCE_BUCKETS = 16
"""Token distances to the claim: exact up to 8, then log-spaced up to 256, on each side."""


def distance_buckets(distance: torch.Tensor, n: int = DISTANCE_BUCKETS, exact: int = 8, far: int = 256) -> torch.Tensor:
    """Bucket signed token distances into 0..2n (n = inside the claim)."""
    a = distance.abs()
    logs = exact + (torch.log(a.float().clamp(min=1) / exact) / math.log(far / exact) * (n - exact)).long()
    return torch.sign(distance) * torch.where(a <= exact, a, logs.clamp(max=n)) + n


class StanceModel(PreTrainedModel):
    """An encoder over article windows with stance, speaker-role and speaker-pointer heads per claim.

    One encoder pass per window serves every claim in it. A claim is the concatenation of
    its first token, the mean of its tokens and its last token; the stance head reads that.
    The speaker head is a pointer conditioned on the claim: start and end scores over the
    window's tokens (position 0, `<s>`, meaning no speaker) from a query of the claim
    against a key of each token, plus a learnt bias by token distance to the claim. The
    role head reads the claim and the speaker it points to.
    """

    config_class = StanceConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True
    _supports_sdpa = True

    def __init__(self, config: StanceConfig):
        super().__init__(config)
        config.check_labels()
        enc_cfg = config.encoder_config()
        try:
            self.encoder = AutoModel.from_config(enc_cfg, add_pooling_layer=False)
        except TypeError:  # encoders without a pooler argument
            self.encoder = AutoModel.from_config(enc_cfg)
        hidden = enc_cfg.hidden_size
        drop = config.classifier_dropout
        self.stance_head = ClassificationHead(3 * hidden, hidden, len(config.stance_labels), drop)
        self.role_head = ClassificationHead(4 * hidden, hidden, len(config.role_labels), drop)
        self.speaker_query = nn.Linear(3 * hidden, 2 * hidden)
        self.speaker_key = nn.Linear(hidden, hidden)
        # Start and end bias per distance bucket, plus one for the no-speaker position.
        self.distance_bias = nn.Embedding(2 * DISTANCE_BUCKETS + 2, 2)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.encoder.get("initializer_range", 0.02)
        if module is getattr(self, "distance_bias", None):
            module.weight.data.zero_()
        elif isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=std)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=std)
        elif isinstance(module, nn.LayerNorm):
            module.weight.data.fill_(1.0)
            module.bias.data.zero_()

    @classmethod
    def from_encoder(cls, name_or_path: str, **config_kwargs) -> "StanceModel":
        """A new StanceModel on a pretrained encoder (hub id or local directory), heads fresh.

        Fails within seconds, saying how to use a local copy, when the encoder cannot be had.
        """
        encoder = load_pretrained_checked(AutoModel, name_or_path, attn_implementation="sdpa")
        enc_dict = encoder.config.to_dict()
        for key in ("architectures", "_name_or_path", "transformers_version", "torch_dtype", "dtype"):
            enc_dict.pop(key, None)
        # RoBERTa's positions start after the padding index: 514 positions hold 512 tokens.
        room = enc_dict.get("max_position_embeddings", 512) - (2 if enc_dict.get("model_type") in ("roberta", "xlm-roberta", "camembert") else 0)
        config_kwargs["max_seq_length"] = min(config_kwargs.get("max_seq_length", room), room)
        special = {k: enc_dict.get(k) for k in ("pad_token_id", "bos_token_id", "eos_token_id")}
        config = StanceConfig(encoder=enc_dict, **special, **config_kwargs)
        config.base_model = name_or_path
        model = cls(config)
        missing, unexpected = model.encoder.load_state_dict(encoder.state_dict(), strict=False)
        # The pooler is unused here, so a checkpoint's pooler weights are expected extras.
        unexpected = [k for k in unexpected if not k.startswith("pooler.")]
        if missing or unexpected:
            raise ValueError(f"encoder weights of {name_or_path!r} do not fit: missing {missing[:5]}, unexpected {unexpected[:5]}")
        return model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        claim_row: torch.Tensor | None = None,
        claim_slot: torch.Tensor | None = None,
        claim_first: torch.Tensor | None = None,
        claim_last: torch.Tensor | None = None,
        stance_labels: torch.Tensor | None = None,
        role_labels: torch.Tensor | None = None,
        start_positions: torch.Tensor | None = None,
        end_positions: torch.Tensor | None = None,
        **kwargs,
    ) -> StanceOutput:
        if attention_mask is None:
            attention_mask = (input_ids != self.config.encoder.get("pad_token_id", 1)).long()
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        rows, width, size = hidden.shape
        row, slot, first, last = claim_row, claim_slot, claim_first, claim_last
        # Mean over each claim's tokens from one cumulative sum (fp32: bf16 sums drift).
        first_token = hidden[row, first]
        csum = torch.cumsum(hidden.float(), dim=1)
        total = csum[row, last] - csum[row, first] + first_token.float()
        mean = (total / (last - first + 1).unsqueeze(-1).float()).to(hidden.dtype)
        claim = torch.cat([first_token, mean, hidden[row, last]], dim=-1)
        stance_logits = self.stance_head(claim)

        # Claim-conditioned pointer: each row's claims' queries against its tokens' keys in one bmm.
        slots = int(slot.max()) + 1 if len(slot) else 1
        query = self.speaker_query(claim).view(-1, 2, size)
        queries = query.new_zeros(rows, 2, slots, size)
        queries[row, :, slot] = query
        keys = self.speaker_key(hidden)
        scores = torch.bmm(queries.view(rows, 2 * slots, size), keys.transpose(1, 2)) / math.sqrt(size)
        scores = scores.view(rows, 2, slots, width)[row, :, slot]  # (claims, 2, width)
        t = torch.arange(width, device=hidden.device)
        distance = torch.where(t < first[:, None], t - first[:, None], torch.where(t > last[:, None], t - last[:, None], 0))
        bucket = distance_buckets(distance)
        bucket[:, 0] = 2 * DISTANCE_BUCKETS + 1
        logits = scores + self.distance_bias(bucket).permute(0, 2, 1).to(scores.dtype)
        # Only text tokens and the no-speaker position 0 can be pointed at (not </s>, not padding);
        # the mask value stays finite in bf16.
        lengths = attention_mask.sum(1)[row]
        valid = (t[None, :] < (lengths - 1)[:, None]) & (t[None, :] > 0)
        valid[:, 0] = True
        logits = logits.masked_fill(~valid[:, None, :], -1e4)
        start_logits, end_logits = logits[:, 0], logits[:, 1]

        # The role head reads the claim and the speaker the start pointer attends to.
        attend = torch.softmax(start_logits.float(), dim=-1).to(hidden.dtype)
        weights = hidden.new_zeros(rows, slots, width)
        weights[row, slot] = attend
        speaker = torch.bmm(weights, hidden)[row, slot]
        role_logits = self.role_head(torch.cat([claim, speaker], dim=-1))

        loss = None
        if stance_labels is not None:
            cfg = self.config

            def weights_of(values):
                return None if values is None else torch.tensor(values, dtype=torch.float32, device=stance_logits.device)

            ce_stance = nn.functional.cross_entropy(stance_logits.float(), stance_labels, weight=weights_of(cfg.stance_class_weights))
            ce_role = nn.functional.cross_entropy(role_logits.float(), role_labels, weight=weights_of(cfg.role_class_weights))
            loss = cfg.stance_loss_weight * ce_stance + cfg.role_loss_weight * ce_role
            # Claims whose speaker lies outside their window (-100) add no span loss.
            if (start_positions != IGNORE).any():
                ce_span = (
                    nn.functional.cross_entropy(start_logits.float(), start_positions)
                    + nn.functional.cross_entropy(end_logits.float(), end_positions)
                ) / 2
                loss = loss + cfg.span_loss_weight * ce_span
        return StanceOutput(loss, stance_logits, role_logits, start_logits, end_logits)


# Registering the type lets AutoConfig, AutoModel and AutoTokenizer open a stance model
# directory (a registry entry only: no I/O, no settings changed).
AutoConfig.register("stance", StanceConfig, exist_ok=True)
AutoModel.register(StanceConfig, StanceModel, exist_ok=True)
