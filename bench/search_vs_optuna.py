#!/usr/bin/python3
"""Search quality, side by side: consort (TPE + ASHA, `consort run`) and
Optuna 3.1's TPESampler calling `consort train --json`, on the same
objective — consort's trainer on the built-in digits, 5-fold CV, the same
test split and folds — over the same space, with the same wall-time budget
and the same number of parallel workers. For each seed it records the best
CV accuracy each reaches and when; it reports the medians and the time
consort needs to reach Optuna's final best. With two seeds or more it also
pairs every consort run with every Optuna run (both ways round), and each
Optuna run with the other Optuna runs (an A/A baseline for the ratio).

With --recheck N it also trains each side's final recommendation (the
configuration of its best result) with N fresh training seeds: the mean of
those is what the recommended configuration is worth, where its own best
result was one lucky draw of it.

usage: search_vs_optuna.py [--seeds 3] [--first-seed 1] [--budget 90] [--workers 2] [--points FILE] [--recheck N]
"""
import argparse, concurrent.futures, json, os, statistics, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.join(ROOT, 'bin', 'consort')

# The space both search: depth, widths, learning rate, batch size, L2.
SPACE_YAML = """
  layers: {type: int, low: 1, high: 2}
  width: {type: int, low: 16, high: 256, log: true, per: layers}
  lr: {type: float, low: 1.0e-4, high: 3.0e-2, log: true}
  batch: [16, 32, 64, 128]
  l2: {type: float, low: 1.0e-6, high: 1.0e-2, log: true}
"""
MAX_EPOCHS = 45
ASHA_MIN = int(os.environ.get('ASHA_MIN', '5'))
ASHA_ETA = int(os.environ.get('ASHA_ETA', '3'))
# Hyperband brackets over ASHA's rungs (1: plain ASHA).
BRACKETS = int(os.environ.get('ASHA_BRACKETS', '1'))
STARTUP = int(os.environ.get('TPE_STARTUP', '10'))
# Trials consort keeps in flight per worker (queued beside running).
INFLIGHT = int(os.environ.get('INFLIGHT', '2'))


def consort_run(seed, budget, workers, out):
    name = f'search-{seed}'
    y = f"""name: {name}
seed: {seed}
data: {{source: digits, folds: 5, test_fraction: 0.2, split_seed: 1}}
base: {{epochs: {MAX_EPOCHS}}}
space:{SPACE_YAML}
sampler: {{name: tpe, startup: {STARTUP}, multivariate: true}}
asha: {{enabled: true, eta: {ASHA_ETA}, min_epochs: {ASHA_MIN}, max_epochs: {MAX_EPOCHS}, brackets: {BRACKETS}}}
budget: {{wall: {budget}s}}
parallelism: {INFLIGHT * workers}
ensemble: {{enabled: false}}
"""
    path = os.path.join(out, name + '.yaml')
    open(path, 'w').write(y)
    subprocess.run([BIN, 'run', path, '--workers', str(workers), '--out', out, '--quiet'],
                   check=True, stdout=subprocess.DEVNULL)
    sw = json.load(open(os.path.join(out, name, 'sweep.json')))
    start = parse_time(sw['Status']['started'])
    points, best = [], None
    for r in sorted(sw['Records'], key=lambda r: parse_time(r['finished_at']) if r.get('finished_at') else 0):
        # Only fully trained trials count: a screen at fewer epochs is a
        # different (cheaper) objective.
        if r['kind'] == 'member' and r['state'] == 'done' and r.get('epochs', MAX_EPOCHS) == MAX_EPOCHS:
            acc = r['metrics']['cv_accuracy']
            points.append((parse_time(r['finished_at']) - start, acc))
            if best is None or acc > best[0]:
                best = (acc, config(r['params']))
    return sorted(points), best[1]


def config(p):
    """(hidden widths, lr, L2, batch) of a trial's parameters, either side's."""
    return tuple(p[f'width_{i + 1}'] for i in range(p['layers'])), p['lr'], p['l2'], p['batch']


def train_json(cfg, seed, epochs=MAX_EPOCHS):
    """The objective: `consort train --json` on one core for cfg (hidden
    widths, lr, L2, batch) and a training seed; its parsed output."""
    hidden, lr, l2, batch = cfg
    out = subprocess.run([BIN, 'train', '--data', 'digits', '--folds', '5', '--test-fraction', '0.2', '--split-seed', '1',
                          '--hidden', ','.join(map(str, hidden)), '--lr', repr(lr), '--batch', str(batch), '--l2', repr(l2),
                          '--epochs', str(epochs), '--seed', str(seed), '--parallel', '1', '--json'],
                         check=True, capture_output=True, text=True, env=dict(os.environ, GOMAXPROCS='1')).stdout
    return json.loads(out)


def train_cv(cfg, seed):
    return train_json(cfg, seed)['cv_accuracy']


def recheck(cfg, n, workers):
    """Mean CV accuracy of cfg over n training seeds no search used."""
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        return statistics.mean(ex.map(lambda s: train_cv(cfg, s), range(900_001, 900_001 + n)))


def parse_time(s):
    from datetime import datetime
    s = s.replace('Z', '+00:00')
    if '.' in s:
        head, frac = s.split('.', 1)
        tz = frac[frac.index('+'):] if '+' in frac else ''
        frac = frac[:frac.index('+')] if '+' in frac else frac
        s = head + '.' + frac[:6].ljust(6, '0') + tz
    return datetime.fromisoformat(s).timestamp()


def optuna_run(seed, budget, workers):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    start = time.time()
    points, lock = [], threading.Lock()

    def objective(trial):
        layers = trial.suggest_int('layers', 1, 2)
        widths = [trial.suggest_int(f'width_{i + 1}', 16, 256, log=True) for i in range(layers)]
        lr = trial.suggest_float('lr', 1e-4, 3e-2, log=True)
        batch = trial.suggest_categorical('batch', [16, 32, 64, 128])
        l2 = trial.suggest_float('l2', 1e-6, 1e-2, log=True)
        acc = train_cv((tuple(widths), lr, l2, batch), trial.number + 1)
        with lock:
            points.append((time.time() - start, acc))
        return acc

    study = optuna.create_study(direction='maximize', sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, timeout=budget, n_jobs=workers)
    return sorted(points), config(study.best_trial.params)


def best_curve(points):
    best, curve = 0.0, []
    for t, a in points:
        if a > best:
            best = a
            curve.append((t, a))
    return curve


# CV accuracy is the mean of the fold accuracies, and the folds differ in
# size by one sample, so two results with the same number of misclassified
# samples can differ by ~1e-5 depending on which folds hold the errors; one
# sample more or less moves it by ~7e-4 on digits. A result counts as
# reaching a target within TIE.
TIE = 1e-4


def time_to(points, target):
    for t, a in points:
        if a >= target - TIE:
            return t
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seeds', type=int, default=3)
    ap.add_argument('--first-seed', type=int, default=1)
    ap.add_argument('--budget', type=int, default=90)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--points', help='append every (seconds, CV accuracy) result as JSON lines to this file')
    ap.add_argument('--recheck', type=int, default=0, help="train each side's recommendation with this many fresh seeds")
    a = ap.parse_args()
    try:
        import optuna  # noqa: F401 -- fail before the first consort run, not after it
    except ImportError:
        sys.exit(f"search_vs_optuna.py: {sys.executable} has no optuna; install Debian's python3-optuna "
                 "and run this script as bench/search_vs_optuna.py (it starts /usr/bin/python3)")
    subprocess.run(['go', 'build', '-o', BIN, './cmd/consort'], cwd=ROOT, check=True)
    rows, curves = [], []
    with tempfile.TemporaryDirectory() as out:
        for seed in range(a.first_seed, a.first_seed + a.seeds):
            c, crec = consort_run(seed, a.budget, a.workers, out)
            o, orec = optuna_run(seed, a.budget, a.workers)
            cb, ob = max(x[1] for x in c), max(x[1] for x in o)
            row = {'seed': seed, 'consort_trials': len(c), 'optuna_trials': len(o), 'consort_best': cb, 'optuna_best': ob,
                   'optuna_time_to_best': time_to(o, ob), 'consort_time_to_optuna_best': time_to(c, ob)}
            if a.recheck:
                row.update(consort_pick=crec, optuna_pick=orec, consort_pick_mean=recheck(crec, a.recheck, a.workers),
                           optuna_pick_mean=recheck(orec, a.recheck, a.workers))
            rows.append(row)
            curves.append((c, o))
            print(json.dumps(row), flush=True)
            if a.points:
                with open(a.points, 'a') as f:
                    f.write(json.dumps({'seed': seed, 'consort': c, 'optuna': o}) + '\n')
    summarize(rows, a.budget, a.workers)
    cross(curves)


def pair_ratios(challengers, references, skip_same):
    """The bar's ratio for every (challenger run, reference run) pair: the
    challenger's time to the reference's final best over the reference's
    time to it (not reached = inf). With skip_same, a run is not paired
    with itself (the lists are the same runs)."""
    out = []
    for i, c in enumerate(challengers):
        for j, r in enumerate(references):
            if skip_same and i == j:
                continue
            best = max(x[1] for x in r)
            tc = time_to(c, best)
            out.append(float('inf') if tc is None else tc / time_to(r, best))
    return out


def cross(curves):
    """Print the ratio over all pairs of runs, the other way round (Optuna's
    time to consort's final best), and the same statistic for Optuna
    against its own other runs (an A/A baseline: what the bar's
    ratio is when both sides are the same searcher). Pairing every consort
    run with every Optuna run lowers the variance of the per-seed median;
    the A/A figure shows where "no better than Optuna" lies on this scale,
    which is above 1: the reference's time is the time to its own final
    best, a record it set, while the challenger must match it."""
    if len(curves) < 2:
        return
    cs, os_ = [c for c, _ in curves], [o for _, o in curves]
    print()
    for name, rs in (('consort vs Optuna, all pairs', pair_ratios(cs, os_, False)),
                     ('Optuna vs consort (the other way round)', pair_ratios(os_, cs, False)),
                     ('Optuna vs Optuna (A/A), other seeds', pair_ratios(os_, os_, True)),
                     ('consort vs consort (A/A), other seeds', pair_ratios(cs, cs, True))):
        share = sum(r <= 0.5 for r in rs) / len(rs)
        reached = sum(r < float('inf') for r in rs) / len(rs)
        print(f"{name:40} median ratio {statistics.median(rs):5.2f}   pairs <= 0.5: {share:4.0%}   reached: {reached:4.0%}   of {len(rs)}")


def summarize(rows, budget, workers):
    """Print the medians over seeds. A seed where consort never reached
    Optuna's final best counts as infinitely slow (not dropped)."""
    inf = float('inf')
    med = lambda k: statistics.median(r[k] for r in rows)
    ct = statistics.median(inf if r['consort_time_to_optuna_best'] is None else r['consort_time_to_optuna_best'] for r in rows)
    ratio = statistics.median(inf if r['consort_time_to_optuna_best'] is None else r['consort_time_to_optuna_best'] / r['optuna_time_to_best']
                              for r in rows)
    reached = sum(r['consort_time_to_optuna_best'] is not None for r in rows)
    print()
    print(f"{'':30}{'consort (TPE+ASHA)':>20}{'optuna 3.1 TPE':>18}")
    print(f"{'45-epoch evaluations (median)':30}{med('consort_trials'):>20.0f}{med('optuna_trials'):>18.0f}")
    print(f"{'best CV accuracy (median)':30}{med('consort_best'):>20.4f}{med('optuna_best'):>18.4f}")
    print(f"{'time to Optuna best (median s)':30}{(f'{ct:.1f}' if ct < inf else 'not reached'):>20}{med('optuna_time_to_best'):>18.1f}")
    print(f"consort reached Optuna's final best in {reached} of {len(rows)} seeds; budget {budget}s, {workers} workers each")
    print(f"ratio consort/Optuna time to Optuna's final best, median over seeds (not reached = inf): {ratio:.2f}")
    if 'consort_pick_mean' in rows[0]:
        wins = sum(r['consort_pick_mean'] > r['optuna_pick_mean'] for r in rows)
        ties = sum(r['consort_pick_mean'] == r['optuna_pick_mean'] for r in rows)
        diff = statistics.median(r['consort_pick_mean'] - r['optuna_pick_mean'] for r in rows)
        print(f"{'recommendation, fresh-seed mean':30}{med('consort_pick_mean'):>20.4f}{med('optuna_pick_mean'):>18.4f}")
        print(f"consort's recommendation better in {wins} of {len(rows)} seeds ({ties} tied), median difference {diff:+.4f}")

if __name__ == '__main__':
    main()
