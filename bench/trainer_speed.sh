#!/usr/bin/env bash
# Single-core training throughput of consort, PyTorch and scikit-learn,
# measured side by side in this one run (median of RUNS runs each):
#   (a) digits 64-64-32-10, batch 32, Adam
#   (b) Fashion-MNIST 784-256-128-10, batch 128, Adam
# Needs Debian's python3-torch, python3-sklearn and dataset-fashion-mnist.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
FM=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
PY=${PYTHON:-/usr/bin/python3}
go build -o bin/consort ./cmd/consort
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Every peer runs on one core, the same one, one after another.
CORE=${CORE:-0}
pin() { taskset -c "$CORE" "$@"; }

consort_speed() { # task data hidden batch epochs
  GOMAXPROCS=1 pin bin/consort train --data "$2" --hidden "$3" --batch "$4" --epochs "$5" \
    --folds 0 --test-fraction 0 --parallel 1 --json |
    "$PY" -c "import json,sys; r=json.load(sys.stdin); print(json.dumps({'peer':'consort','task':'$1','samples_per_s':r['train_samples_per_s']}))"
}

for i in $(seq "$RUNS"); do
  consort_speed digits digits 64,32 32 20 >>"$out"
  pin "$PY" bench/peers.py torch-speed digits 20 >>"$out"
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 pin "$PY" bench/peers.py sklearn-speed digits 20 >>"$out"
  consort_speed fashion "$FM" 256,128 128 2 >>"$out"
  pin "$PY" bench/peers.py torch-speed fashion 2 >>"$out"
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 pin "$PY" bench/peers.py sklearn-speed fashion 2 >>"$out"
done

"$PY" - "$out" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = {}
for r in rows:
    key = (r['task'], r['peer'].split('-')[0])
    med.setdefault(key, []).append(r['samples_per_s'])
print(f"{'task':<10}{'peer':<10}{'samples/s (median)':>20}{'runs':>6}{'consort ×':>11}")
for task in ('digits', 'fashion'):
    c = statistics.median(med[(task, 'consort')])
    for peer in ('consort', 'torch', 'sklearn'):
        v = med.get((task, peer))
        if not v:
            continue
        m = statistics.median(v)
        print(f"{task:<10}{peer:<10}{m:>20,.0f}{len(v):>6}{c / m:>11.2f}")
PYEOF
