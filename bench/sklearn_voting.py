#!/usr/bin/python3
"""scikit-learn's VotingClassifier (soft) over its own MLPClassifiers of the
given shapes, scored on exactly the folds of a consort trial directory (read
from its predictions.bin), on the built-in digits (X/16).

usage: sklearn_voting.py TRIAL_DIR SHAPE...   e.g. 64,32 128 256
"""
import gzip, json, os, struct, sys, time, warnings
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def uvarint(b, i):
    x, s = 0, 0
    while True:
        c = b[i]; i += 1
        x |= (c & 0x7f) << s
        if c < 0x80:
            return x, i
        s += 7


def read_predictions(path):
    """Decode consort's predictions file (trainer/predictions.go)."""
    b = open(path, 'rb').read()
    assert b[:8] == b'CONSORTP' and b[8] == 1, 'not a consort predictions file'
    i = 9
    nc, i = uvarint(b, i)
    classes = []
    for _ in range(nc):
        n, i = uvarint(b, i)
        classes.append(b[i:i + n].decode()); i += n
    n, i = uvarint(b, i)
    labels, folds = [], []
    for _ in range(n):
        v, i = uvarint(b, i); labels.append(v)
    for _ in range(n):
        v, i = uvarint(b, i); folds.append(v)
    return classes, np.array(labels), np.array(folds)


def main():
    from sklearn.ensemble import VotingClassifier
    from sklearn.neural_network import MLPClassifier
    warnings.filterwarnings('ignore')
    trial, shapes = sys.argv[1], sys.argv[2:]
    classes, labels, folds = read_predictions(os.path.join(trial, 'predictions.bin'))
    a = np.loadtxt(gzip.open(os.path.join(HERE, '..', 'trainer', 'data', 'builtin', 'digits.csv.gz')), delimiter=',')
    X, y = a[:, :-1] / 16.0, a[:, -1].astype(int)
    assert len(y) == len(labels), 'the trial was not trained on all of digits (use --test-fraction 0)'
    # consort's class k is the k-th class name; digits' names are "0".."9".
    assert [int(c) for c in classes] == list(range(10)) and (y == labels).all()
    t = time.perf_counter()
    oof_vote = np.zeros((len(y), 10))
    single = {s: np.zeros((len(y), 10)) for s in shapes}
    for k in range(folds.max() + 1):
        tr, va = folds != k, folds == k
        est = [(f'm{i}', MLPClassifier(tuple(int(w) for w in s.split(',')), max_iter=200, random_state=i)) for i, s in enumerate(shapes)]
        v = VotingClassifier(est, voting='soft').fit(X[tr], y[tr])
        oof_vote[va] = v.predict_proba(X[va])
        for (name, e), s in zip(v.named_estimators_.items(), shapes):
            single[s][va] = e.predict_proba(X[va])
    acc = float((oof_vote.argmax(1) == y).mean())
    best = max(float((p.argmax(1) == y).mean()) for p in single.values())
    print(json.dumps({'peer': 'sklearn-VotingClassifier-soft', 'members': len(shapes), 'cv_accuracy': acc,
                      'best_single_cv_accuracy': best, 'seconds': round(time.perf_counter() - t, 1)}))


if __name__ == '__main__':
    main()
