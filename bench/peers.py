#!/usr/bin/python3
"""Peer baselines run side by side with consort by the bench/ scripts.

Each command prints one JSON line. Protocols follow ../shared/peers/peers.py:
float32 PyTorch with torch.set_num_threads(1), Adam lr 1e-3, the same
architectures, batch sizes and epochs as consort's side of the benchmark.

usage: peers.py torch-speed digits|fashion EPOCHS
       peers.py sklearn-speed digits|fashion EPOCHS
"""
import gzip, json, os, struct, sys, time, warnings
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DIGITS = os.path.join(HERE, '..', 'trainer', 'data', 'builtin', 'digits.csv.gz')
FM = os.environ.get('FASHION_MNIST', '/usr/share/datasets/fashion-mnist')


def load_digits():
    a = np.loadtxt(gzip.open(DIGITS), delimiter=',')
    return a[:, :-1].astype(np.float32) / 16.0, a[:, -1].astype(int)


def load_idx(prefix):
    def rd(p):
        with gzip.open(p) as f:
            _, _, nd = struct.unpack('>HBB', f.read(4))
            shape = struct.unpack('>' + 'I' * nd, f.read(4 * nd))
            return np.frombuffer(f.read(), dtype=np.uint8).reshape(shape)
    X = rd(prefix + '-images-idx3-ubyte.gz').reshape(-1, 784).astype(np.float32) / 255.0
    y = rd(prefix + '-labels-idx1-ubyte.gz').astype(int)
    return X, y


TASKS = {
    # name: (loader, hidden sizes, batch)
    'digits': (load_digits, (64, 32), 32),
    'fashion': (lambda: load_idx(os.path.join(FM, 'train')), (256, 128), 128),
}


def torch_speed(task, epochs):
    import torch, torch.nn as nn, torch.nn.functional as F
    torch.set_num_threads(1)
    torch.manual_seed(0)
    load, hidden, bs = TASKS[task]
    X, y = load()
    X = torch.tensor(X, dtype=torch.float32)
    y = torch.tensor(y)
    sizes = [X.shape[1], *hidden, 10]
    layers = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    m = nn.Sequential(*layers)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    g = torch.Generator().manual_seed(0)
    t = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(X), generator=g)
        for i in range(0, len(X), bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            F.cross_entropy(m(X[idx]), y[idx]).backward()
            opt.step()
    el = time.perf_counter() - t
    return {'peer': 'torch-' + torch.__version__, 'task': task, 'epochs': epochs, 'batch': bs,
            'seconds': round(el, 4), 'samples_per_s': len(X) * epochs / el}


def sklearn_speed(task, epochs):
    import sklearn
    from sklearn.neural_network import MLPClassifier
    warnings.filterwarnings('ignore')
    load, hidden, bs = TASKS[task]
    X, y = load()
    m = MLPClassifier(hidden, batch_size=bs, max_iter=epochs, random_state=0, tol=0, n_iter_no_change=10**9)
    t = time.perf_counter()
    m.fit(X, y)
    el = time.perf_counter() - t
    return {'peer': 'sklearn-' + sklearn.__version__, 'task': task, 'epochs': epochs, 'batch': bs,
            'seconds': round(el, 4), 'samples_per_s': len(X) * epochs / el}


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'torch-speed':
        print(json.dumps(torch_speed(sys.argv[2], int(sys.argv[3]))))
    elif cmd == 'sklearn-speed':
        print(json.dumps(sklearn_speed(sys.argv[2], int(sys.argv[3]))))
    else:
        sys.exit(__doc__)
