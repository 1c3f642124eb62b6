#!/usr/bin/env bash
# Replays the Archetype Fine-Tuning API docs' curl examples against a local ftnode.
#   ATAI_API_KEY=sk_... ./examples/quickstart.sh            (server from `npm start` on 127.0.0.1:8642)
#   ATAI_API_ENDPOINT=http://127.0.0.1:9000 ATAI_API_KEY=... ./examples/quickstart.sh
set -euo pipefail
BASE="${ATAI_API_ENDPOINT:-http://127.0.0.1:8642}"
API="$BASE/v0.5"
KEY="${ATAI_API_KEY:?set ATAI_API_KEY to the key printed by npm start}"
HERE="$(cd "$(dirname "$0")" && pwd)"
auth=(-H "Authorization: Bearer $KEY")
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say "Upload the training and evaluation sets (Files API)"
curl -sS "${auth[@]}" -F "file=@$HERE/datasets/sensor-sft-train.jsonl" "$API/files"; echo
curl -sS "${auth[@]}" -F "file=@$HERE/datasets/sensor-sft-eval.jsonl" "$API/files"; echo

say "Create a fine-tune job (docs: create-job)"
JOB=$(curl -sS "${auth[@]}" -X POST "$API/fine-tune/jobs" -H "Content-Type: application/json" -d '{
  "name": "my-finetune-run",
  "config": {
    "model": "Newton::c2_4_7b_251215a172f6d7",
    "datasets": [
      {"name": "training-set", "split": "train", "file_ids": ["sensor-sft-train.jsonl"]},
      {"name": "eval-set", "split": "eval", "file_ids": ["sensor-sft-eval.jsonl"]}
    ]
  }
}')
echo "$JOB"
JOB_ID=$(printf '%s' "$JOB" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | head -1)

say "List jobs (docs: list-jobs)"
curl -sS "${auth[@]}" "$API/fine-tune/jobs?limit=10&statuses=REGISTERED&statuses=STARTING&statuses=RUNNING&statuses=COMPLETED"; echo

say "Get the job until it is terminal (docs: get-job)"
for _ in $(seq 1 600); do
  STATUS=$(curl -sS "${auth[@]}" "$API/fine-tune/jobs/$JOB_ID" | sed -n 's/.*"status":"\([A-Z]*\)".*/\1/p')
  echo "status: $STATUS"
  case "$STATUS" in COMPLETED|STOPPED|CANCELLED|FAILED) break ;; esac
  sleep 1
done

say "Training metrics (docs: get-job-metrics)"
curl -sS "${auth[@]}" "$API/fine-tune/jobs/$JOB_ID/metrics?limit=5"; echo

say "Checkpoints and the inference config (extensions)"
curl -sS "${auth[@]}" "$API/fine-tune/jobs/$JOB_ID/checkpoints"; echo
curl -sS "${auth[@]}" "$API/fine-tune/jobs/$JOB_ID/inference-config"

say "Predict with the fine-tuned checkpoint (extension)"
EXAMPLE=$(head -1 "$HERE/datasets/sensor-sft-eval.jsonl")
curl -sS "${auth[@]}" -X POST "$API/fine-tune/jobs/$JOB_ID/predict" -d "{\"examples\": [$EXAMPLE]}"; echo

say "Stop a second job (docs: stop-job) and cancel a third (docs: cancel-job)"
new_job() {
  curl -sS "${auth[@]}" -X POST "$API/fine-tune/jobs" -d "{\"name\":\"$1\",\"config\":{\"datasets\":[{\"name\":\"training-set\",\"split\":\"train\",\"file_ids\":[\"sensor-sft-train.jsonl\"]}]}}" |
    sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | head -1
}
JOB2_ID=$(new_job second-run)
curl -sS "${auth[@]}" -X PUT "$API/fine-tune/jobs/$JOB2_ID/stop"; echo
JOB3_ID=$(new_job third-run)
curl -sS "${auth[@]}" -X PUT "$API/fine-tune/jobs/$JOB3_ID/cancel"; echo

say "Runner status (unofficial endpoint)"
curl -sS "${auth[@]}" "$API/fine-tune/status"; echo
echo "quickstart finished: job $JOB_ID ended $STATUS"
