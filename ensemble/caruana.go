package ensemble

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Defaults of Caruana's zero fields.
const (
	DefaultRounds      = 50
	DefaultInit        = 5
	DefaultBagFraction = 0.5
)

// Metric is what Caruana's forward selection hill-climbs.
type Metric int

const (
	// MetricLogLoss minimises the log loss of the ensemble average. It is
	// the zero value.
	MetricLogLoss Metric = iota

	// MetricAccuracy maximises accuracy, breaking ties by log loss.
	MetricAccuracy
)

// String returns the name ParseMetric accepts.
func (m Metric) String() string {
	switch m {
	case MetricLogLoss:
		return "logloss"
	case MetricAccuracy:
		return "accuracy"
	}
	return fmt.Sprintf("Metric(%d)", int(m))
}

// ParseMetric parses "logloss" (or "") and "accuracy".
func ParseMetric(s string) (Metric, error) {
	switch s {
	case "", "logloss":
		return MetricLogLoss, nil
	case "accuracy":
		return MetricAccuracy, nil
	}
	return 0, fmt.Errorf("%w: metric %q: want \"logloss\" or \"accuracy\"", ErrSpec, s)
}

// Caruana is ensemble selection (Caruana, Niculescu-Mizil, Crew & Ksikes,
// ICML 2004): greedy forward selection with replacement.
//
// The ensemble starts with the Init best members on their own (sorted
// initialisation), then for Rounds rounds adds the member, possibly one
// already in, whose addition makes the average of the selected members
// score best under Metric; ties go to the member that ranked higher on its
// own, then to the earlier one. A member's weight is the number of times it
// was selected over the total.
//
// With Bags ≥ 2, selection runs Bags times, each time over a random
// BagFraction of the members, and the bags' weights are averaged.
//
// Limits are enforced at every step: a member not yet in the ensemble is a
// candidate only if adding its bytes and one to the count stays within
// them; members already in (in any earlier bag too) cost nothing more.
// Members that do not fit are skipped in sorted initialisation.
type Caruana struct {
	// Rounds is the number of forward steps after initialisation. Zero
	// means DefaultRounds.
	Rounds int

	// Init is the number of best members the ensemble starts from. Zero
	// means DefaultInit; 1 is plain forward selection.
	Init int

	// Metric is what selection optimises. The zero value is MetricLogLoss.
	Metric Metric

	// Bags is the number of bags. Zero or one means no bagging.
	Bags int

	// BagFraction is the fraction of members each bag draws from, in
	// (0, 1]. Zero means DefaultBagFraction. Used only with Bags ≥ 2.
	BagFraction float64

	// Seed seeds the PCG source that draws the bags.
	Seed uint64

	Limits
}

// check validates the hyperparameters, wrapping ErrSpec.
func (ca Caruana) check() error {
	switch {
	case ca.Rounds < 0:
		return fmt.Errorf("%w: rounds: %d is negative", ErrSpec, ca.Rounds)
	case ca.Init < 0:
		return fmt.Errorf("%w: init: %d is negative", ErrSpec, ca.Init)
	case ca.Bags < 0:
		return fmt.Errorf("%w: bags: %d is negative", ErrSpec, ca.Bags)
	case math.IsNaN(ca.BagFraction) || ca.BagFraction < 0 || ca.BagFraction > 1:
		return fmt.Errorf("%w: bag fraction: %v not in (0, 1]", ErrSpec, ca.BagFraction)
	case ca.Metric != MetricLogLoss && ca.Metric != MetricAccuracy:
		return fmt.Errorf("%w: metric: %v", ErrSpec, ca.Metric)
	}
	return ca.Limits.check()
}

// Fit returns a *Weighted whose weights are selection counts over the total
// (averaged over bags).
func (ca Caruana) Fit(ctx context.Context, p *Problem) (Combiner, error) {
	if err := p.checkShapes(); err != nil {
		return nil, err
	}
	if err := ca.check(); err != nil {
		return nil, err
	}
	rounds, init, frac := ca.Rounds, ca.Init, ca.BagFraction
	if rounds == 0 {
		rounds = DefaultRounds
	}
	if init == 0 {
		init = DefaultInit
	}
	if frac == 0 {
		frac = DefaultBagFraction
	}
	m := len(p.Members)
	s := newSelector(p, ca.Metric, ca.Limits)
	order := s.ranking()

	weights := make([]float64, m)
	if ca.Bags <= 1 {
		if err := s.run(ctx, order, init, rounds); err != nil {
			return nil, err
		}
		if s.k == 0 {
			return nil, fmt.Errorf("%w: no member fits %d bytes", ErrBudget, ca.MaxBytes)
		}
		for j, c := range s.counts {
			weights[j] = float64(c) / float64(s.k)
		}
		return &Weighted{Classes: p.Classes, Weights: weights}, nil
	}

	rng := rand.New(rand.NewPCG(ca.Seed, 0x9e3779b97f4a7c15))
	size := max(1, int(math.Round(frac*float64(m))))
	perm := make([]int, m)
	for j := range perm {
		perm[j] = j
	}
	inBag := make([]bool, m)
	bagOrder := make([]int, 0, size)
	var filled int
	for range ca.Bags {
		rng.Shuffle(m, func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
		clear(inBag)
		for _, j := range perm[:size] {
			inBag[j] = true
		}
		bagOrder = bagOrder[:0]
		for _, j := range order { // the bag's members, best first
			if inBag[j] {
				bagOrder = append(bagOrder, j)
			}
		}
		s.reset()
		if err := s.run(ctx, bagOrder, init, rounds); err != nil {
			return nil, err
		}
		if s.k == 0 {
			continue // nothing in this bag fits what the earlier bags left
		}
		filled++
		for j, c := range s.counts {
			weights[j] += float64(c) / float64(s.k)
		}
	}
	if filled == 0 {
		return nil, fmt.Errorf("%w: no member fits %d bytes", ErrBudget, ca.MaxBytes)
	}
	for j := range weights {
		weights[j] /= float64(filled)
	}
	return &Weighted{Classes: p.Classes, Weights: weights}, nil
}

// selector holds the running state of forward selection. All buffers are
// allocated once in newSelector; scoring candidates and adding a member
// allocate nothing.
type selector struct {
	n, c, m int
	metric  Metric
	lim     Limits
	labels  []int32
	probs   [][]float32 // member j's n×C matrix, member-major
	bytes   []int64

	q  []float32 // m×n, member-major: q[j*n+i] = member j's probability of label i
	sl []float64 // n: summed probability of the label over the selection

	counts []int // selections per member in the current bag
	k      int   // selections in the current bag

	union      []bool // members used by this or an earlier bag
	unionBytes int64
	unionCount int

	live   []int   // scratch: the allowed candidates of a step
	scores []score // scratch: per member, the score with it added

	// Accuracy only.
	//
	// byRow holds the probabilities sample-major, n×m×C, so that the
	// candidates' rows for one sample are contiguous. sum holds the summed
	// probabilities over the selection, n×C. gap[i] is sum[i][y] minus the
	// largest other sum[i][k]; adding a member moves it by at most rowMax
	// (the largest row sum of any member, 1 up to rounding), so a row with
	// gap beyond ±(rowMax+margin) is decided whatever is added: sure counts
	// the rows sure to be right and open lists the others, the only rows a
	// step visits.
	byRow   []float32
	rowMax  float64
	sum     []float32
	gap     []float64
	open    []int32
	sure    int
	correct []int // scratch: per member, correct rows with it added
}

func newSelector(p *Problem, metric Metric, lim Limits) *selector {
	n, c, m := len(p.Labels), p.Classes, len(p.Members)
	s := &selector{
		n: n, c: c, m: m, metric: metric, lim: lim,
		labels: p.Labels,
		probs:  make([][]float32, m),
		bytes:  make([]int64, m),
		q:      make([]float32, m*n),
		sl:     make([]float64, n),
		counts: make([]int, m),
		union:  make([]bool, m),
		live:   make([]int, 0, m),
		scores: make([]score, m),
	}
	for j := range p.Members {
		s.probs[j] = p.Members[j].OOF
		s.bytes[j] = p.Members[j].Bytes
		row := s.q[j*n : (j+1)*n]
		probs := s.probs[j]
		for i, y := range p.Labels {
			row[i] = probs[i*c+int(y)]
		}
	}
	if metric == MetricAccuracy {
		s.byRow = make([]float32, n*m*c)
		s.rowMax = 1
		for j, probs := range s.probs {
			for i := range n {
				row := probs[i*c : i*c+c]
				copy(s.byRow[(i*m+j)*c:(i*m+j+1)*c], row)
				var sum float64
				for _, v := range row {
					sum += float64(v)
				}
				s.rowMax = max(s.rowMax, sum)
			}
		}
		s.sum = make([]float32, n*c)
		s.gap = make([]float64, n)
		s.open = make([]int32, 0, n)
		s.correct = make([]int, m)
		s.classify()
	}
	return s
}

// reset empties the selection for a new bag, keeping the union.
func (s *selector) reset() {
	clear(s.sl)
	clear(s.counts)
	s.k = 0
	if s.sum != nil {
		clear(s.sum)
		s.classify()
	}
}

// score is a candidate's merit, compared by correct first (always 0 under
// MetricLogLoss), then logLik; higher is better.
type score struct {
	correct int
	logLik  float64 // Σ_i log of the summed label probability, clipped
}

func (a score) better(b score) bool {
	return a.correct > b.correct || a.correct == b.correct && a.logLik > b.logLik
}

// ranking returns all members best first by their score on their own,
// ties by position.
func (s *selector) ranking() []int {
	order := make([]int, s.m)
	for j := range order {
		order[j] = j
	}
	s.scoreAll(order)
	slices.SortStableFunc(order, func(a, b int) int {
		if s.scores[a].better(s.scores[b]) {
			return -1
		}
		if s.scores[b].better(s.scores[a]) {
			return 1
		}
		return cmp.Compare(a, b)
	})
	return order
}

// allowed reports whether member j may be selected within the limits.
func (s *selector) allowed(j int) bool {
	return s.union[j] || s.lim.admits(s.unionBytes+s.bytes[j], s.unionCount+1)
}

// add selects member j once more.
func (s *selector) add(j int) {
	if !s.union[j] {
		s.union[j] = true
		s.unionBytes += s.bytes[j]
		s.unionCount++
	}
	q := s.q[j*s.n : (j+1)*s.n]
	sl := s.sl[:len(q)]
	for i, v := range q {
		sl[i] += float64(v)
	}
	s.counts[j]++
	s.k++
	if s.sum != nil {
		src := s.probs[j][:len(s.sum)]
		for i, v := range src {
			s.sum[i] += v
		}
		s.classify()
	}
}

// run performs sorted initialisation from cands (best first) and then the
// forward rounds over cands.
func (s *selector) run(ctx context.Context, cands []int, init, rounds int) error {
	for _, j := range cands {
		if s.k == init {
			break
		}
		if s.allowed(j) {
			s.add(j)
		}
	}
	if s.k == 0 {
		return nil
	}
	for range rounds {
		if err := ctx.Err(); err != nil {
			return err
		}
		if j := s.step(cands); j >= 0 {
			s.add(j)
		}
	}
	return nil
}

// step returns the allowed candidate whose addition scores best (the
// earliest in cands among equals), or -1 if none is allowed.
func (s *selector) step(cands []int) int {
	s.live = s.live[:0]
	for _, j := range cands {
		if s.allowed(j) {
			s.live = append(s.live, j)
		}
	}
	s.scoreAll(s.live)
	best := -1
	for _, j := range s.live {
		if best < 0 || s.scores[j].better(s.scores[best]) {
			best = j
		}
	}
	return best
}

// scoreAll sets scores[j] for every j in cands: the score of the current
// selection plus member j.
func (s *selector) scoreAll(cands []int) {
	if s.metric == MetricAccuracy {
		s.countCorrect(cands)
	}
	for _, j := range cands {
		s.scores[j] = score{logLik: s.logLik(j)}
		if s.metric == MetricAccuracy {
			s.scores[j].correct = s.correct[j]
		}
	}
}

// logLik returns Σ_i log(max(sl_i + q_ji, floor)). The average over k+1
// members is the sum over k+1; dividing shifts every log by the same
// amount and changes no comparison, so sums are compared directly, clipped
// at probFloor·(k+1) as the average would be at probFloor.
//
// Rather than one log per sample, it keeps a running product as mantissa
// and binary exponent, renormalised every 8 factors (each factor lies in
// [floor, k+1], so 8 of them cannot leave float64 range), and takes one log
// at the end. The relative rounding error is about n·1e-16.
func (s *selector) logLik(j int) float64 {
	n := s.n
	q := s.q[j*n : (j+1)*n]
	sl := s.sl[:len(q)]
	floor := probFloor * float64(s.k+1)
	mant, exp := 1.0, 0
	i := 0
	for ; i+8 <= len(q); i += 8 {
		prod := mant *
			max(sl[i]+float64(q[i]), floor) *
			max(sl[i+1]+float64(q[i+1]), floor) *
			max(sl[i+2]+float64(q[i+2]), floor) *
			max(sl[i+3]+float64(q[i+3]), floor) *
			max(sl[i+4]+float64(q[i+4]), floor) *
			max(sl[i+5]+float64(q[i+5]), floor) *
			max(sl[i+6]+float64(q[i+6]), floor) *
			max(sl[i+7]+float64(q[i+7]), floor)
		var e int
		mant, e = math.Frexp(prod)
		exp += e
	}
	for ; i < len(q); i++ {
		mant *= max(sl[i]+float64(q[i]), floor)
	}
	return math.Log(mant) + float64(exp)*math.Ln2
}

// margin bounds the float32 rounding of sums of up to k+1 probabilities,
// with a wide safety factor, so that bounds only ever decide a row the way
// the exact comparison would.
func (s *selector) margin() float64 { return 1e-5 * float64(s.k+2) }

// classify recomputes gap, open and sure from sum.
func (s *selector) classify() {
	c, lim := s.c, s.rowMax+s.margin()
	s.open = s.open[:0]
	s.sure = 0
	for i, y := range s.labels {
		row := s.sum[i*c : i*c+c : i*c+c]
		other := float32(math.Inf(-1))
		for k, v := range row {
			if k != int(y) && v > other {
				other = v
			}
		}
		g := float64(row[y]) - float64(other)
		s.gap[i] = g
		switch {
		case g > lim:
			s.sure++
		case g < -lim:
		default:
			s.open = append(s.open, int32(i))
		}
	}
}

// countCorrect sets correct[j], for every j in cands, to the number of
// samples whose label is the most probable class (lowest index among ties)
// of the current sum plus member j: the rows sure to be right plus those of
// the open rows that are. Rows are the outer loop so the candidates' rows
// of one sample are read contiguously from byRow. An open row is settled
// by bounds where it can be (the candidate adds p_y to the label's sum and
// at most rowMax−p_y to any other) and by the exact comparison otherwise.
func (s *selector) countCorrect(cands []int) {
	c, m, margin, rowMax := s.c, s.m, s.margin(), s.rowMax
	for _, j := range cands {
		s.correct[j] = s.sure
	}
	for _, i32 := range s.open {
		i := int(i32)
		y := int(s.labels[i])
		g := s.gap[i]
		sum := s.sum[i*c : i*c+c : i*c+c]
		rows := s.byRow[i*m*c : (i+1)*m*c : (i+1)*m*c]
		for _, j := range cands {
			pr := rows[j*c : j*c+c : j*c+c]
			py := float64(pr[y])
			if g+2*py-rowMax > margin {
				s.correct[j]++
				continue
			}
			if g+py < -margin {
				continue
			}
			vy := sum[y] + pr[y]
			ok := true
			for k := 0; k < y; k++ {
				if sum[k]+pr[k] >= vy {
					ok = false
					break
				}
			}
			if ok {
				for k := y + 1; k < c; k++ {
					if sum[k]+pr[k] > vy {
						ok = false
						break
					}
				}
			}
			if ok {
				s.correct[j]++
			}
		}
	}
}
