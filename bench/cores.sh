#!/usr/bin/env bash
# One trial per core: member-trial throughput of a worker running
# --concurrency N trials at once against one trial at a time, on the same
# sweep (digits, 128-64-10, 30 epochs, 5-fold CV, 32 trials), through the
# whole runtime (`consort run`, embedded NATS and etcd).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
N=${N:-$(nproc)}
RUNS=${RUNS:-5}
go build -o bin/consort ./cmd/consort
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/cores.yaml" <<YAML
name: cores
seed: 3
data: {source: digits, folds: 5, test_fraction: 0.2}
base: {hidden: [128, 64], epochs: 30}
space:
  lr: {type: float, low: 5.0e-4, high: 5.0e-3, log: true}
sampler: {name: random}
budget: {trials: 32}
parallelism: 8
ensemble: {enabled: false}
YAML
rate() { # concurrency → trials per second over the member stage
  rm -rf "$dir/out"
  bin/consort run "$dir/cores.yaml" --workers 1 --concurrency "$1" --out "$dir/out" --quiet >/dev/null
  "$PY" - "$dir/out/cores/sweep.json" <<'PYEOF'
import json, sys
from datetime import datetime
t = lambda s: datetime.fromisoformat(s.replace('Z', '+00:00')[:26] + '+00:00' if '.' in s else s.replace('Z', '+00:00')).timestamp()
recs = [r for r in json.load(open(sys.argv[1]))['Records'] if r['kind'] == 'member']
start = min(t(r['started_at']) for r in recs)
end = max(t(r['finished_at']) for r in recs)
print(len(recs) / (end - start))
PYEOF
}
one=() many=()
for i in $(seq "$RUNS"); do
  one+=("$(rate 1)")
  many+=("$(rate "$N")")
done
"$PY" - "$N" "${one[*]}" "${many[*]}" <<'PYEOF'
import statistics, sys
n, one, many = int(sys.argv[1]), [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
a, b = statistics.median(one), statistics.median(many)
print(f"worker --concurrency 1: {a:.2f} trials/s   --concurrency {n}: {b:.2f} trials/s   ({b / a:.2f}x on {n} cores; medians of {len(one)})")
PYEOF
