package coordinator

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/consort-ml/consort/internal/wire"
)

// Row is one leaderboard entry: a member trial (at its highest ASHA rung),
// an ensemble candidate, or the distilled student.
type Row struct {
	Rank  int    `json:"rank"`
	Trial string `json:"trial"`
	// Kind is "member", "ensemble" or "student".
	Kind string `json:"kind"`
	// Desc describes the entry: architecture and compression, or the
	// ensemble method and its members.
	Desc string `json:"desc"`
	// CVAccuracy is the mean over folds (nested CV for ensembles); CILow
	// and CIHigh its 95% t-interval over the folds.
	CVAccuracy float64 `json:"cv_accuracy"`
	CILow      float64 `json:"ci_low"`
	CIHigh     float64 `json:"ci_high"`
	// Folds holds the per-fold accuracies.
	Folds []float64 `json:"folds"`
	// TestAccuracy is set only for the chosen ensemble (scored once).
	TestAccuracy *float64 `json:"test_accuracy,omitempty"`
	// Sparsity and Bits describe a member's compression (for an ensemble:
	// the mean sparsity and the widest bits of its members).
	Sparsity float64 `json:"sparsity"`
	Bits     int     `json:"bits"`
	// SizeBytes is the packed size (an ensemble's: its members' total).
	SizeBytes int64 `json:"size_bytes"`
	// LatencyUS is the per-sample inference time (an ensemble's: the sum
	// over its members).
	LatencyUS float64 `json:"latency_us"`
	// Status is the trial's state.
	Status string `json:"status"`
	// Chosen marks the ensemble the sweep picked; Tied rows are not
	// significantly worse than the best (paired t-test over folds,
	// p ≥ 0.05); Pareto rows are not dominated in (accuracy ↑, size ↓).
	Chosen bool `json:"chosen"`
	Tied   bool `json:"tied"`
	Pareto bool `json:"pareto"`
	// Members lists an ensemble's members.
	Members []string `json:"members,omitempty"`
	// Stopped marks a configuration whose highest rung is below ASHA's
	// top: a screen, stopped or (while the sweep runs) awaiting promotion.
	// Its numbers are from fewer epochs (Epochs) and it has no refitted
	// model; it ranks after the fully trained entries, carries a Caveat,
	// and is never Tied nor Pareto.
	Stopped bool `json:"stopped,omitempty"`
	Epochs  int  `json:"epochs,omitempty"`
	// Caveat warns about a number that is not an honest estimate; empty
	// means none. The student's is set: it learned from the chosen
	// ensemble's probabilities, whose members trained on every fold, so
	// its CV accuracy is optimistic. Rows with a caveat are never Tied
	// nor Pareto.
	Caveat string `json:"caveat,omitempty"`
}

// studentCaveat is the Caveat of the distilled student's row.
const studentCaveat = "teacher saw all folds: CV optimistic"

// Leaderboard ranks a sweep's finished members, ensembles and student.
// sortBy is "cv" (accuracy, the default), "size" or "latency".
func Leaderboard(s *Sweep, sortBy string) []Row {
	recs := map[string]*wire.TrialRecord{}
	for _, r := range s.Records {
		recs[r.ID] = r
	}
	topEpochs := s.TopEpochs() // ASHA's top rung; members below it are screens
	// Members: of a configuration run at several rungs, the highest.
	top := map[string]*wire.TrialRecord{}
	root := func(r *wire.TrialRecord) string {
		for r.Parent != "" && recs[r.Parent] != nil {
			r = recs[r.Parent]
		}
		return r.ID
	}
	var rows []Row
	for _, r := range s.Records {
		if r.Kind == wire.Member && r.State == wire.TrialDone && r.Metrics != nil {
			if cur := top[root(r)]; cur == nil || r.Rung > cur.Rung {
				top[root(r)] = r
			}
		}
	}
	for _, r := range s.Records {
		switch {
		case r.State != wire.TrialDone:
		case (r.Kind == wire.Member && top[root(r)] == r) || (r.Kind == wire.Distill && r.Metrics != nil):
			m := r.Metrics
			row := Row{Trial: r.ID, Kind: "member", Desc: memberDesc(r), CVAccuracy: m.CVAccuracy, Folds: m.Folds,
				Sparsity: m.Sparsity, Bits: m.Bits, SizeBytes: m.SizeBytes, LatencyUS: m.LatencyUS, Status: string(r.State)}
			if r.Kind == wire.Distill {
				row.Kind = "student"
				row.Caveat = studentCaveat
			}
			if r.Kind == wire.Member && topEpochs > 0 {
				row.Epochs = r.Epochs
				if r.Epochs < topEpochs {
					row.Stopped = true
					row.Status = "screened"
					row.Caveat = fmt.Sprintf("ASHA screen: %d of %d epochs, not refitted", r.Epochs, topEpochs)
				}
			}
			rows = append(rows, row)
		case r.Kind == wire.Ensemble && r.EnsembleMetrics != nil:
			em := r.EnsembleMetrics
			row := Row{Trial: r.ID, Kind: "ensemble", CVAccuracy: em.CV.Mean.Accuracy, SizeBytes: em.Bytes,
				Status: string(r.State), Members: em.Members}
			for _, f := range em.CV.Folds {
				row.Folds = append(row.Folds, f.Accuracy)
			}
			var sp float64
			for _, id := range em.Members {
				if mr := recs[id]; mr != nil && mr.Metrics != nil {
					sp += mr.Metrics.Sparsity
					row.Bits = max(row.Bits, mr.Metrics.Bits)
					row.LatencyUS += mr.Metrics.LatencyUS
				}
			}
			if len(em.Members) > 0 {
				row.Sparsity = sp / float64(len(em.Members))
			}
			row.Desc = fmt.Sprintf("%s of %d: %s", r.Ensemble.Method, len(em.Members), strings.Join(em.Members, " "))
			if b := s.Status.Best; b != nil && b.Trial == r.ID {
				row.Chosen = true
				if b.Test != nil {
					acc := b.Test.Accuracy
					row.TestAccuracy = &acc
				}
			}
			rows = append(rows, row)
		}
	}
	for i := range rows {
		rows[i].CILow, rows[i].CIHigh = interval(rows[i].Folds, rows[i].CVAccuracy)
	}
	markPareto(rows)
	// A total order (trial ids are unique), so an unstable sort will do.
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(cmpBool(a.Stopped, b.Stopped), -cmp.Compare(a.CVAccuracy, b.CVAccuracy),
			cmp.Compare(a.SizeBytes, b.SizeBytes), cmp.Compare(a.Trial, b.Trial))
	})
	// Ties are judged against the best honest row.
	if b := slices.IndexFunc(rows, func(r Row) bool { return r.Caveat == "" }); b >= 0 {
		for i := range rows {
			rows[i].Tied = rows[i].Caveat == "" && (i == b || tied(rows[b].Folds, rows[i].Folds))
		}
	}
	switch sortBy {
	case "size":
		slices.SortStableFunc(rows, func(a, b Row) int { return cmp.Compare(a.SizeBytes, b.SizeBytes) })
	case "latency":
		slices.SortStableFunc(rows, func(a, b Row) int { return cmp.Compare(a.LatencyUS, b.LatencyUS) })
	}
	for i := range rows {
		rows[i].Rank = i + 1
	}
	return rows
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// memberDesc describes a member's architecture and compression.
func memberDesc(r *wire.TrialRecord) string {
	var b strings.Builder
	if h, ok := r.Params["hidden"]; ok {
		fmt.Fprintf(&b, "hidden %v", h)
	} else if _, ok := r.Params["layers"]; ok {
		var ws []string
		for i := 1; ; i++ {
			w, ok := r.Params[fmt.Sprintf("width_%d", i)]
			if !ok {
				break
			}
			ws = append(ws, fmt.Sprint(w))
		}
		fmt.Fprintf(&b, "hidden %s", strings.Join(ws, ","))
	}
	keys := make([]string, 0, len(r.Params))
	for k := range r.Params {
		if k != "hidden" && k != "layers" && !strings.HasPrefix(k, "width") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := r.Params[k]
		if f, ok := v.(float64); ok && f != math.Trunc(f) {
			v = fmt.Sprintf("%.3g", f)
		}
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%v", k, v)
	}
	if r.Epochs > 0 {
		fmt.Fprintf(&b, " epochs=%d", r.Epochs)
	}
	return b.String()
}

// interval returns the 95% Student-t interval of the mean of folds,
// clipped to [0, 1].
func interval(folds []float64, mean float64) (float64, float64) {
	k := len(folds)
	if k < 2 {
		return mean, mean
	}
	var ss float64
	for _, f := range folds {
		ss += (f - mean) * (f - mean)
	}
	sd := math.Sqrt(ss / float64(k-1))
	t := tQuantile(0.975, k-1)
	h := t * sd / math.Sqrt(float64(k))
	return max(0, mean-h), min(1, mean+h) // an accuracy stays in [0, 1]
}

// tied reports whether b is not significantly worse than a: a paired
// t-test over the same folds, one-sided at 5%.
func tied(a, b []float64) bool {
	k := len(a)
	if k < 2 || len(b) != k {
		return false
	}
	d := make([]float64, k)
	var mean float64
	for i := range a {
		d[i] = a[i] - b[i]
		mean += d[i]
	}
	mean /= float64(k)
	if mean <= 0 {
		return true
	}
	var ss float64
	for _, x := range d {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / float64(k-1))
	if sd == 0 {
		return false
	}
	t := mean / (sd / math.Sqrt(float64(k)))
	return t < tQuantile(0.95, k-1)
}

// tQuantiles caches Student-t quantiles by (p, degrees of freedom): the
// inverse incomplete beta behind them dominated the leaderboard's time
// (two per row), and a sweep has a single fold count.
var tQuantiles sync.Map // tKey → float64

type tKey struct {
	p  float64
	nu int
}

// tQuantile returns the p-quantile of Student's t with nu degrees of
// freedom.
func tQuantile(p float64, nu int) float64 {
	if q, ok := tQuantiles.Load(tKey{p, nu}); ok {
		return q.(float64)
	}
	q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(nu)}.Quantile(p)
	tQuantiles.Store(tKey{p, nu}, q)
	return q
}

// markPareto marks the honest rows (no Caveat) not dominated by another
// honest row in (accuracy ↑, size ↓): a row is dominated by one at least
// as accurate and at most as big, better in one of the two. It sorts by
// size, so it takes O(n log n) rather than comparing every pair.
func markPareto(rows []Row) {
	idx := make([]int, 0, len(rows))
	for i := range rows {
		rows[i].Pareto = false
		if rows[i].Caveat == "" {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int {
		return cmp.Or(cmp.Compare(rows[a].SizeBytes, rows[b].SizeBytes), -cmp.Compare(rows[a].CVAccuracy, rows[b].CVAccuracy))
	})
	// smaller is the best accuracy among strictly smaller rows.
	smaller := math.Inf(-1)
	for g := 0; g < len(idx); {
		size, top := rows[idx[g]].SizeBytes, rows[idx[g]].CVAccuracy
		e := g
		for ; e < len(idx) && rows[idx[e]].SizeBytes == size; e++ {
			rows[idx[e]].Pareto = rows[idx[e]].CVAccuracy == top && top > smaller
		}
		smaller = max(smaller, top)
		g = e
	}
}
