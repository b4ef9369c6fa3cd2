#!/usr/bin/env bash
# Check the built corpus against the spec: records, coverage, duplicates, split leaks.
set -euo pipefail
cd "$(dirname "$0")/.."
STANCE="${STANCE:-.venv/bin/stance}"
command -v "$STANCE" >/dev/null 2>&1 || STANCE=stance
"$STANCE" validate training/data/*.jsonl
