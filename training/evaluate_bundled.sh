#!/usr/bin/env bash
# Evaluate the bundled model, its no-pretraining ablation (both built by training/build_bundled_gpu.sh) and the baselines on the corpus
# test split, the unseen-vendor split and the real evaluation articles (read in place),
# and keep the reports (numbers only) under benchmarks/results/accuracy/.
set -euo pipefail
cd "$(dirname "$0")/.."
STANCE=${STANCE:-.venv/bin/stance}
MODELS=(--model models/stance-mini-nl --model runs/finetune-mini-scratch/model)
declare -A GOLD=([test]=training/data/test.jsonl [test-unseen-vendors]=training/data/test-unseen-vendors.jsonl
                 [real-dev]=../shared/eval/real-dev.jsonl)
for split in test test-unseen-vendors real-dev; do
  rm -rf "runs/eval-$split" "benchmarks/results/accuracy/$split"  # no plots left from other models
  "$STANCE" evaluate "${GOLD[$split]}" "${MODELS[@]}" -o "runs/eval-$split"
  mkdir -p "benchmarks/results/accuracy/$split"
  cp "runs/eval-$split/report.json" "runs/eval-$split/report.md" "benchmarks/results/accuracy/$split/"
  cp runs/eval-$split/*.png "benchmarks/results/accuracy/$split/" 2>/dev/null || true
done
python training/score_tables.py test=runs/eval-test/report.json \
  test-unseen-vendors=runs/eval-test-unseen-vendors/report.json real-dev=runs/eval-real-dev/report.json \
  --name models/stance-mini-nl="stance-mini-nl (pretrained + fine-tuned)" \
  --name runs/finetune-mini-scratch/model="no pretraining (same fine-tuning)" \
  --name tfidf-rules="TF-IDF + LR, rule speakers" --name majority="majority class" \
  > benchmarks/results/accuracy/tables.md
cat benchmarks/results/accuracy/tables.md
