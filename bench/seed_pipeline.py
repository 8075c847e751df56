#!/usr/bin/python3
"""The seed documents' pipeline done properly in PyTorch — the anchor row of
the compression benchmark. digits (X/16), MLP 64-64-32-10, 5-fold stratified
CV over all samples: train 40 epochs (Adam 1e-3, batch 32), one-shot global
magnitude pruning to sparsity s, fine-tune 10 epochs, per-output-channel
symmetric weight quantization to b bits. Prints one JSON line per cell.

usage: seed_pipeline.py "s/b" ...   e.g. seed_pipeline.py 0/32 0.8/8 0.9/4
"""
import gzip, json, os, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
import torch.nn.utils.prune as prune
from sklearn.model_selection import StratifiedKFold

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
a = np.loadtxt(gzip.open(os.path.join(HERE, '..', 'trainer', 'data', 'builtin', 'digits.csv.gz')), delimiter=',')
X, y = a[:, :-1] / 16.0, a[:, -1].astype(int)


def mlp():
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def train(m, Xt, yt, epochs, seed):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    for _ in range(epochs):
        p = torch.randperm(len(Xt), generator=g)
        for i in range(0, len(Xt), 32):
            idx = p[i:i + 32]
            opt.zero_grad()
            F.cross_entropy(m(Xt[idx]), yt[idx]).backward()
            opt.step()


def quantize_(m, bits):
    if bits >= 32:
        return
    with torch.no_grad():
        for l in m:
            if isinstance(l, nn.Linear):
                w, qmax = l.weight, 2 ** (bits - 1) - 1
                s = w.abs().amax(dim=1, keepdim=True) / qmax
                l.weight.copy_(torch.round(w / s.clamp_min(1e-12)).clamp(-qmax, qmax) * s)


def run(sparsity, bits, seed=0):
    oof = np.zeros((len(X), 10))
    t = time.perf_counter()
    for k, (tr, va) in enumerate(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)):
        torch.manual_seed(seed * 100 + k)
        Xt, yt = torch.tensor(X[tr], dtype=torch.float32), torch.tensor(y[tr])
        m = mlp()
        train(m, Xt, yt, 40, seed)
        if sparsity > 0:
            params = [(l, 'weight') for l in m if isinstance(l, nn.Linear)]
            prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=sparsity)
            train(m, Xt, yt, 10, seed + 1)
            for l, n in params:
                prune.remove(l, n)
        quantize_(m, bits)
        with torch.no_grad():
            oof[va] = F.softmax(m(torch.tensor(X[va], dtype=torch.float32)), 1).numpy()
    return {'peer': 'torch-seed-pipeline', 'sparsity': sparsity, 'bits': bits,
            'cv_accuracy': float((oof.argmax(1) == y).mean()), 'seconds': round(time.perf_counter() - t, 2)}


if __name__ == '__main__':
    for cell in sys.argv[1:]:
        s, b = cell.split('/')
        print(json.dumps(run(float(s), int(b))), flush=True)
