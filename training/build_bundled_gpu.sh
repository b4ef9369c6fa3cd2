#!/usr/bin/env bash
# Build the bundled model on one GPU in about eight minutes: MLM pretraining of the mini
# encoder (training/configs/pretrain-mini-gpu.yaml, 4.5 minutes), fine-tuning it
# (finetune-mini.yaml), and the no-pretraining ablation with the same fine-tuning.
# Results are packed under OUT in pieces of at most 15 MB (what a copy-back allows):
#   model.tar.*    the fine-tuned model directory plus the pretraining curve and metrics
#   scratch.tar.*  the ablation model (weights stored in bf16 to halve the transfer)
#   log.txt        everything printed
# Unpack with: cat OUT/model.tar.* | tar -x -C runs/  (gives runs/finetune-mini/...)
#
# Environment: PYTHON (default python3), CORPUS (the nl-mlm folder, default
# ../shared/corpora/nl-mlm), TOKENIZER (default runs/pretrain-mini/tokenizer), RUNS
# (default runs), PRETRAIN_ARGS / TRAIN_ARGS (extra key=value overrides, for dry runs).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/gpu-build}
PY=${PYTHON:-python3}
CORPUS=${CORPUS:-../shared/corpora/nl-mlm}
TOKENIZER=${TOKENIZER:-runs/pretrain-mini/tokenizer}
RUNS=${RUNS:-runs}
export TQDM_DISABLE=1 PYTHONUNBUFFERED=1
mkdir -p "$OUT"
log() { tee -a "$OUT/log.txt"; }
echo "== $(date -u +%FT%TZ) $($PY -c 'import torch; print(torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")')" | log

$PY -m stance.cli pretrain training/configs/pretrain-mini-gpu.yaml --no-progress \
  "text_files=[$CORPUS/laws-nl.txt.xz,$CORPUS/ud-nl.txt.xz,training/data/train.jsonl]" \
  tokenizer="$TOKENIZER" output_dir="$RUNS/pretrain-mini-gpu" ${PRETRAIN_ARGS:-} 2>&1 | log || exit 1
echo "== $(date -u +%FT%TZ) pretraining done" | log

$PY -m stance.cli train training/configs/finetune-mini.yaml model="$RUNS/pretrain-mini-gpu/final" \
  output_dir="$RUNS/finetune-mini" progress=false ${TRAIN_ARGS:-} 2>&1 | grep -v "^{'loss'" | log || exit 1
cp "$RUNS/pretrain-mini-gpu/loss_curve.png" "$RUNS/pretrain-mini-gpu/log_history.json" \
   "$RUNS/pretrain-mini-gpu/final/pretrain_metrics.json" "$RUNS/finetune-mini/model/" 2>/dev/null
tar -C "$RUNS" -cf - finetune-mini/model | split -b 15M - "$OUT/model.tar."
echo "== $(date -u +%FT%TZ) fine-tuning done and packed" | log

$PY -m stance.cli train training/configs/finetune-mini.yaml model="$RUNS/pretrain-mini-gpu/final" \
  output_dir="$RUNS/finetune-mini-scratch" reinit_encoder=true progress=false ${TRAIN_ARGS:-} 2>&1 \
  | grep -v "^{'loss'" | log || exit 1
$PY - "$RUNS/finetune-mini-scratch/model" <<'PYEOF'
import sys, torch
from stance.modeling import StanceModel
d = sys.argv[1]
StanceModel.from_pretrained(d).to(torch.bfloat16).save_pretrained(d)
PYEOF
tar -C "$RUNS" -cf - finetune-mini-scratch/model | split -b 15M - "$OUT/scratch.tar."
echo "== $(date -u +%FT%TZ) ablation done and packed" | log
