#!/usr/bin/env bash
# Compression, side by side from one run:
#  1. digits, MLP 64-64-32-10, 5-fold CV over all samples: the seed pipeline
#     in PyTorch (one-shot pruning, fine-tuning, per-channel quantization)
#     against consort (gradual pruning, quantization-aware fine-tuning,
#     integer inference), at each (sparsity, bits); consort's packed size
#     against the dense float32 model's.
#  2. Fashion-MNIST, 784-256-128-10 at 90% sparsity and 4 bits: integer
#     inference latency per sample against the dense float32 model, test
#     accuracy, and the gap to the float fake-quant reference.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
FM=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
go build -o bin/consort ./cmd/consort
CELLS="0/32 0.8/8 0.9/4 0.95/4 0.9/2"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$PY" bench/seed_pipeline.py $CELLS >>"$out"
for cell in $CELLS; do
  s=${cell%/*} b=${cell#*/}
  extra="--schedule agp --qat --fine-tune 20 --lr 2e-3"
  [ "$b" = 32 ] && [ "$s" = 0 ] && extra=""
  bin/consort train --data digits --hidden 64,32 --epochs 40 --folds 5 --test-fraction 0 \
    --sparsity "$s" --bits "$b" $extra --json |
    "$PY" -c "import json,sys; r=json.load(sys.stdin); print(json.dumps({'peer':'consort','sparsity':$s,'bits':$b,'cv_accuracy':r['cv_accuracy'],'size_bytes':r['size_bytes'],'compression_ratio':r['compression_ratio']}))" >>"$out"
done

"$PY" - "$out" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cells = [(r['sparsity'], r['bits']) for r in rows if r['peer'] == 'consort']
get = lambda peer, c: next(r for r in rows if r['peer'] == peer and (r['sparsity'], r['bits']) == c)
print("digits, MLP 64-64-32-10, 5-fold CV accuracy")
print(f"{'sparsity / bits':<22}" + "".join(f"{f'{s:g} / {b}':>12}" for s, b in cells))
print(f"{'PyTorch seed pipeline':<22}" + "".join(f"{get('torch-seed-pipeline', c)['cv_accuracy']:>12.4f}" for c in cells))
print(f"{'consort':<22}" + "".join(f"{get('consort', c)['cv_accuracy']:>12.4f}" for c in cells))
print(f"{'consort packed bytes':<22}" + "".join(f"{get('consort', c)['size_bytes']:>12}" for c in cells))
print(f"{'  vs dense float32':<22}" + "".join(f"{'1/%.1f' % get('consort', c)['compression_ratio']:>12}" for c in cells))
PYEOF

echo
echo "Fashion-MNIST, 784-256-128-10, 10 epochs (+5 epochs fine-tuning when compressed), test split"
fm() { bin/consort train --data "$FM" --hidden 256,128 --batch 128 --epochs 10 --folds 0 --json "$@"; }
dense=$(fm)
packed=$(fm --sparsity 0.9 --bits 4 --schedule agp --qat --fine-tune 5)
"$PY" - "$dense" "$packed" <<'PYEOF'
import json, sys
d, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{'model':<34}{'test acc':>10}{'bytes':>10}{'latency µs':>12}")
print(f"{'dense float32':<34}{d['test_accuracy']:>10.4f}{d['size_bytes']:>10}{d['latency_us']:>12.1f}")
print(f"{'90% sparse, 4-bit, integer':<34}{p['test_accuracy']:>10.4f}{p['size_bytes']:>10}{p['latency_us']:>12.1f}")
print(f"{'  its float fake-quant reference':<34}{p['test_reference_accuracy']:>10.4f}")
print(f"integer inference {d['latency_us'] / p['latency_us']:.2f}x faster per sample than dense float32; "
      f"accuracy {100 * (p['test_accuracy'] - p['test_reference_accuracy']):+.2f} points vs fake-quant")
PYEOF
