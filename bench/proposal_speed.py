#!/usr/bin/python3
"""What a TPE proposal costs as the history grows, side by side: consort's
TPE (`BenchmarkTPEDigits` in search/) and Optuna 3.1's TPESampler, both
independent and multivariate, on the digits search's space (depth, one
width per layer, learning rate, batch, L2; bench/search_vs_optuna.py's),
after 100, 1,000 and 10,000 complete trials of random configurations with
random values. Optuna's figure is one `study.ask()` and the objective's
suggest calls on an in-memory study, as a search spends it per trial;
consort's is one Sampler.Sample, which the coordinator calls per trial.
Medians of --runs runs (Optuna: of --runs × 5 proposals). About 2 minutes.

usage: proposal_speed.py [--runs 3]
"""
import argparse, os, random, re, statistics, subprocess, sys, time, warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIZES = (100, 1000, 10000)
MODES = ('independent', 'multivariate')


def consort(runs):
    out = subprocess.run(['go', 'test', '-run', 'XXX', '-bench', 'TPEDigits', '-benchtime', '20x', '-count', str(runs),
                          './search'], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    got = {}
    for m in re.finditer(r'BenchmarkTPEDigits/(\w+)/history=(\d+)\S*\s+\d+\s+([\d.]+) ns/op', out):
        got.setdefault((m[1], int(m[2])), []).append(float(m[3]) / 1e6)
    return {k: statistics.median(v) for k, v in got.items()}


def suggest(trial):
    layers = trial.suggest_int('layers', 1, 2)
    for i in range(layers):
        trial.suggest_int(f'width_{i + 1}', 16, 256, log=True)
    trial.suggest_float('lr', 1e-4, 3e-2, log=True)
    trial.suggest_categorical('batch', [16, 32, 64, 128])
    trial.suggest_float('l2', 1e-6, 1e-2, log=True)


def optuna_ms(n, multivariate, runs):
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    times = []
    for run in range(runs):
        rng = random.Random(run)
        trials = []
        for _ in range(n):
            layers = rng.randint(1, 2)
            p, d = {'layers': layers}, {'layers': IntDistribution(1, 2)}
            for j in range(layers):
                p[f'width_{j + 1}'] = min(256, max(16, round(16 * 16 ** rng.random())))
                d[f'width_{j + 1}'] = IntDistribution(16, 256, log=True)
            p['lr'], d['lr'] = 1e-4 * 300 ** rng.random(), FloatDistribution(1e-4, 3e-2, log=True)
            p['batch'], d['batch'] = rng.choice([16, 32, 64, 128]), CategoricalDistribution([16, 32, 64, 128])
            p['l2'], d['l2'] = 1e-6 * 1e4 ** rng.random(), FloatDistribution(1e-6, 1e-2, log=True)
            trials.append(optuna.trial.create_trial(params=p, distributions=d, value=rng.random()))
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # multivariate is "experimental" in 3.1
            sampler = optuna.samplers.TPESampler(seed=run, multivariate=multivariate, warn_independent_sampling=False)
        study = optuna.create_study(direction='maximize', sampler=sampler)
        study.add_trials(trials)
        for _ in range(5):
            t0 = time.perf_counter()
            suggest(study.ask())
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=3)
    a = ap.parse_args()
    try:
        import optuna  # noqa: F401
    except ImportError:
        sys.exit(f"proposal_speed.py: {sys.executable} has no optuna; install Debian's python3-optuna "
                 "and run this script as bench/proposal_speed.py (it starts /usr/bin/python3)")
    c = consort(a.runs)
    print(f"{'TPE, trials in the history':32}{'consort ms':>12}{'Optuna 3.1 ms':>15}{'Optuna ÷ consort':>18}")
    for mode in MODES:
        for n in SIZES:
            o = optuna_ms(n, mode == 'multivariate', a.runs)
            print(f"{mode + ', ' + format(n, ','):32}{c[(mode, n)]:>12.2f}{o:>15.1f}{o / c[(mode, n)]:>17.1f}×", flush=True)


if __name__ == '__main__':
    main()
