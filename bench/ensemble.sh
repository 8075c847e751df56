#!/usr/bin/env bash
# Ensembles on digits, side by side from one run: 20 members trained by
# consort (5 widths × 4 sparsity/bits settings, each on a random 75% of the
# input features — the random subspace method, for diversity), combined by
# `consort ensemble` (nested CV), with and without a size budget of one
# dense float32 member of the pool (the smallest); scikit-learn's soft
# VotingClassifier over its own MLPClassifiers of the same shapes on the
# same folds; and Caruana's speed. SEED offsets the members' seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
go build -o bin/consort ./cmd/consort
pool=$(mktemp -d)
trap 'rm -rf "$pool"' EXIT
shapes=()
i=0
SEED=${SEED:-0}
for h in 512 256,256 1024 384 512,128; do
  for sb in "0 32" "0.5 8" "0.8 4" "0.9 4"; do
    set -- $sb
    i=$((i + 1))
    shapes+=("$h")
    extra=""
    [ "$2" -lt 32 ] && extra="--schedule agp --qat --fine-tune 20"
    bin/consort train --data digits --folds 5 --test-fraction 0 --hidden "$h" --sparsity "$1" --bits "$2" $extra \
      --epochs 60 --l2 1e-3 --feature-fraction 0.75 --seed $((SEED + i)) --parallel 1 --out "$pool/m$i" --json >/dev/null &
    if [ $((i % $(nproc))) = 0 ]; then wait; fi
  done
done
wait
dense=$("$PY" -c 'import json,sys
print(min(json.load(open(d + "/trial.json"))["size_bytes"] for d in sys.argv[1:] if json.load(open(d + "/trial.json"))["bits"] == 32))' "$pool"/m*)
summary() {
  "$PY" -c 'import json,sys
r = json.load(sys.stdin); w = r["rows"][0]
acc, single = w["cv"]["mean"]["accuracy"], r["best_single_cv_accuracy"]
print("%-44s%10.4f%12.4f%+9.2f%10d  %s of %d" % (sys.argv[1], acc, single, 100 * (acc - single), w["bytes"], w["name"], len(w["members"])))' "$1"
}
echo "digits, 20 members, 5-fold CV over all samples (nested CV for consort's ensembles)"
printf '%-44s%10s%12s%9s%10s  %s\n' "" "ensemble" "best single" "points" "bytes" "chosen"
bin/consort ensemble "$pool"/m* --json | summary "consort, no budget"
bin/consort ensemble "$pool"/m* --budget "$dense" --json | summary "consort, budget $dense B (smallest dense member)"
"$PY" bench/sklearn_voting.py "$pool/m1" "${shapes[@]}" | "$PY" -c 'import json,sys
r = json.load(sys.stdin)
print("%-44s%10.4f%12.4f%+9.2f%10s  soft vote of %d" % ("scikit-learn VotingClassifier (soft)", r["cv_accuracy"], r["best_single_cv_accuracy"], 100 * (r["cv_accuracy"] - r["best_single_cv_accuracy"]), "-", r["members"]))'
echo
echo "Caruana selection, 100 members × 10,000 samples × 10 classes:"
go test -run XXX -bench 'Caruana' -benchtime 3x ./ensemble | grep -E '^Benchmark' | head -6
