#!/usr/bin/python3
"""How noisy is the search objective of bench/search_vs_optuna.py, and what
can an ASHA schedule gain from it?

It trains configurations from the good region that the digits search
settles in (batch 16–64, one wide hidden layer, learning rate 4e-3–9e-3)
with `consort train --json`, each with many training seeds and for several
epoch budgets. A run for E epochs with seed s is bit-identical to the first
E epochs of a longer run with seed s (consort's ASHA promotions continue
their parent's training), so the runs of one seed form one training
trajectory. It reports, for each configuration, the CV accuracy's mean and
standard deviation over seeds at 45 epochs, how often a seed reaches the
bench's targets (≥ 0.9812 and ≥ 0.9819: 1763 and 1764 of 1797 samples),
and how well the accuracy after fewer epochs predicts it (correlation over
seeds). It then replays ASHA schedules on these trajectories — configurations
and seeds drawn at random, each rung keeping its best 1/η — and reports how
many results reach the targets per 1,000 epochs of training (the
refit of a fully trained member counted at 11 epochs, and batch 32 and 64
epochs at 0.6 and 0.4 of a batch-16 epoch, as measured).

usage: search_noise.py [--seeds 100] [--sims 3000]   (about 8 minutes on 2 cores)
"""
import argparse, concurrent.futures, math, os, random, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import search_vs_optuna as bench  # noqa: E402  (the same objective, run the same way)

ROOT, BIN = bench.ROOT, bench.BIN

# (width, learning rate, L2, batch): full evaluations that scored >= 0.9805
# in a 90 s consort sweep of the bench (seed 1).
CONFIGS = [(194, 0.0092, 2.7e-5, 16), (228, 0.0044, 3.7e-6, 16), (159, 0.0067, 2.3e-5, 16),
           (243, 0.0083, 2.9e-5, 32), (188, 0.0087, 1.9e-5, 64)]
EPOCHS = (5, 10, 15, 20, 30, 45)
COST = {16: 1.0, 32: 0.6, 64: 0.4}  # epoch cost relative to batch 16
REFIT = 11                          # a full member's refit, in epochs
TARGETS = (0.9812, 0.9819)
TIE = bench.TIE

SCHEDULES = [  # name, rungs, kept share at each promotion
    ('45 only (no ASHA)', [45], []),
    ('5/15/45, eta 3 (the bench\'s)', [5, 15, 45], [1 / 3, 1 / 3]),
    ('15/45, eta 3', [15, 45], [1 / 3]),
    ('5/15/45, eta 2', [5, 15, 45], [1 / 2, 1 / 2]),
    ('5/15/30/45, eta 2', [5, 15, 30, 45], [1 / 2] * 3),
    ('5/15/30/45, eta 3', [5, 15, 30, 45], [1 / 3] * 3),
    ('5/10/20/45, eta 2', [5, 10, 20, 45], [1 / 2] * 3),
    ('5/10/20/30/45, eta 2', [5, 10, 20, 30, 45], [1 / 2] * 4),
    ('5/20/45, eta 3', [5, 20, 45], [1 / 3, 1 / 3]),
]


def train(job):
    seed, epochs, (width, lr, l2, batch) = job
    return job, bench.train_json(((width,), lr, l2, batch), seed, epochs)['cv_accuracy']


def simulate(traj, rungs, keep, sims, rng):
    """Replays one ASHA schedule: per round, draw enough trajectories that
    one reaches the top rung, keep the best share at each rung, and count
    the cost of every epoch trained. Returns hits per 1,000 epochs for
    each target."""
    n = 1
    for share in keep:
        n = round(n / share)
    hits, cost = [0] * len(TARGETS), 0.0
    col = {e: i for i, e in enumerate(EPOCHS)}
    for _ in range(sims):
        alive = rng.sample(range(len(traj)), n)
        prev = 0
        for i, ep in enumerate(rungs):
            cost += sum(traj[t][0] * (ep - prev) for t in alive)
            prev = ep
            if i < len(keep):
                alive.sort(key=lambda t: (-traj[t][1][col[ep]], rng.random()))
                alive = alive[:max(1, round(len(alive) * keep[i]))]
        for t in alive:
            cost += traj[t][0] * REFIT
            for k, target in enumerate(TARGETS):
                hits[k] += traj[t][1][col[45]] >= target - TIE
    return [1000 * h / cost for h in hits]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seeds', type=int, default=100)
    ap.add_argument('--sims', type=int, default=3000)
    ap.add_argument('--workers', type=int, default=2)
    a = ap.parse_args()
    need = max(round(1 / math.prod(keep)) for _, _, keep in SCHEDULES)
    if a.seeds * len(CONFIGS) < need:
        sys.exit(f'search_noise.py: --seeds {a.seeds} gives {a.seeds * len(CONFIGS)} trajectories; '
                 f'the schedules replay rounds of up to {need}, so use --seeds {-(-need // len(CONFIGS))} or more')
    subprocess.run(['go', 'build', '-o', BIN, './cmd/consort'], cwd=ROOT, check=True)
    jobs = [(s, e, c) for c in CONFIGS for s in range(1, a.seeds + 1) for e in EPOCHS]
    acc = {}
    with concurrent.futures.ThreadPoolExecutor(a.workers) as ex:
        for (s, e, c), v in ex.map(train, jobs):
            acc[s, e, c] = v
    traj = []
    print(f"{'width, lr, L2, batch':30}{'mean@45':>9}{'std':>8}" + ''.join(f"{'P>=' + str(t):>10}" for t in TARGETS)
          + ''.join(f"{'corr ' + str(e) + '-45':>12}" for e in (5, 15, 30)))
    for c in CONFIGS:
        rows = [[acc[s, e, c] for e in EPOCHS] for s in range(1, a.seeds + 1)]
        traj += [(COST[c[3]], r) for r in rows]
        final = [r[-1] for r in rows]
        line = f"{str(c):30}{statistics.mean(final):9.4f}{statistics.pstdev(final):8.4f}"
        line += ''.join(f"{sum(v >= t - TIE for v in final) / len(final):10.2f}" for t in TARGETS)
        line += ''.join(f"{statistics.correlation([r[EPOCHS.index(e)] for r in rows], final):12.2f}" for e in (5, 15, 30))
        print(line)
    print()
    print(f"{'schedule':34}" + ''.join(f"{'>=' + str(t) + ' /1000 ep':>20}" for t in TARGETS) + f"{'vs the bench':>16}")
    rng = random.Random(1)
    rates = [simulate(traj, rungs, keep, a.sims, rng) for _, rungs, keep in SCHEDULES]
    base = rates[1]  # the bench's schedule
    for (name, _, _), rate in zip(SCHEDULES, rates):
        rel = ' '.join(f"{r / b:.2f}x" if b else '-' for r, b in zip(rate, base))
        print(f"{name:34}" + ''.join(f"{r:20.3f}" for r in rate) + f"{rel:>16}")

if __name__ == '__main__':
    main()
