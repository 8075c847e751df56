#!/usr/bin/env bash
# Ensembles on digits, side by side from one run: 20 members trained by
# consort (widths × sparsity/bits), combined by `consort ensemble` (nested
# CV), with and without a size budget of one dense float32 64-64-32-10
# member; scikit-learn's soft VotingClassifier over its own MLPClassifiers
# of the same shapes on the same folds; and Caruana's speed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
go build -o bin/consort ./cmd/consort
pool=$(mktemp -d)
trap 'rm -rf "$pool"' EXIT
shapes=()
i=0
for h in 64,32 128 256 128,64 512; do
  for sb in "0 32" "0.5 8" "0.8 4" "0.9 4"; do
    set -- $sb
    i=$((i + 1))
    shapes+=("$h")
    extra=""
    [ "$2" -lt 32 ] && extra="--schedule agp --qat --fine-tune 20"
    bin/consort train --data digits --folds 5 --test-fraction 0 --hidden "$h" --sparsity "$1" --bits "$2" $extra \
      --epochs 60 --l2 1e-3 --seed "$i" --parallel 1 --out "$pool/m$i" --json >/dev/null &
    if [ $((i % $(nproc))) = 0 ]; then wait; fi
  done
done
wait
dense=$(bin/consort train --data digits --hidden 64,32 --folds 0 --epochs 1 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["size_bytes"])')
summary() {
  "$PY" -c 'import json,sys
r = json.load(sys.stdin); w = r["rows"][0]
acc, single = w["cv"]["mean"]["accuracy"], r["best_single_cv_accuracy"]
print("%-44s%10.4f%12.4f%+9.2f%10d  %s of %d" % (sys.argv[1], acc, single, 100 * (acc - single), w["bytes"], w["name"], len(w["members"])))' "$1"
}
echo "digits, 20 members, 5-fold CV over all samples (nested CV for consort's ensembles)"
printf '%-44s%10s%12s%9s%10s  %s\n' "" "ensemble" "best single" "points" "bytes" "chosen"
bin/consort ensemble "$pool"/m* --json | summary "consort, no budget"
bin/consort ensemble "$pool"/m* --budget "$dense" --json | summary "consort, budget $dense B (one dense member)"
"$PY" bench/sklearn_voting.py "$pool/m1" "${shapes[@]}" | "$PY" -c 'import json,sys
r = json.load(sys.stdin)
print("%-44s%10.4f%12.4f%+9.2f%10s  soft vote of %d" % ("scikit-learn VotingClassifier (soft)", r["cv_accuracy"], r["best_single_cv_accuracy"], 100 * (r["cv_accuracy"] - r["best_single_cv_accuracy"]), "-", r["members"]))'
echo
echo "Caruana selection, 100 members × 10,000 samples × 10 classes:"
go test -run XXX -bench 'Caruana' -benchtime 3x ./ensemble | grep -E '^Benchmark' | head -6
