package trainer

import (
	"math"
	"slices"
)

// AGPSparsity is the sparsity of Zhu & Gupta's (2017) automated gradual
// pruning at step t: pruning starts at t0 and reaches sf after n pruning
// steps Δt apart,
//
//	s_t = s_f + (s_i − s_f)·(1 − (t − t0)/(n·Δt))³,
//
// clamped to s_i before t0 and s_f after t0 + n·Δt.
func AGPSparsity(t, t0, n, dt int, si, sf float64) float64 {
	if t <= t0 || n <= 0 || dt <= 0 {
		if t > t0 && (n <= 0 || dt <= 0) {
			return sf
		}
		return si
	}
	span := float64(n * dt)
	frac := float64(t-t0) / span
	if frac >= 1 {
		return sf
	}
	r := 1 - frac
	return sf + (si-sf)*r*r*r
}

// pruner applies magnitude pruning to a network, keeping masks monotone:
// a weight once pruned stays pruned.
type pruner struct {
	net        *MLP
	structured bool
	global     bool
	scratch    []float32
}

func newPruner(net *MLP, cfg *Config) *pruner {
	p := &pruner{net: net, structured: cfg.Prune == "structured", global: cfg.PruneScope == "global"}
	n := 0
	for _, l := range net.Layers {
		n += len(l.W)
	}
	p.scratch = make([]float32, n)
	for li := range net.Layers {
		l := &net.Layers[li]
		if l.Mask == nil {
			l.Mask = make([]float32, len(l.W))
			for i := range l.Mask {
				l.Mask[i] = 1
			}
		}
		if p.structured && l.BMask == nil {
			l.BMask = make([]float32, len(l.B))
			for i := range l.BMask {
				l.BMask[i] = 1
			}
		}
	}
	return p
}

// prune raises the network's sparsity to s (for structured pruning: the
// share of each hidden layer's neurons removed) and zeroes the pruned
// weights.
func (p *pruner) prune(s float64) {
	switch {
	case p.structured:
		p.pruneNeurons(s)
	case p.global:
		all := p.scratch[:0]
		for _, l := range p.net.Layers {
			for i, w := range l.W {
				if l.Mask[i] != 0 {
					all = append(all, abs32(w))
				}
			}
		}
		total := len(p.scratch)
		p.pruneSmallest(all, total, s, -1)
	default:
		for li, l := range p.net.Layers {
			vals := p.scratch[:0]
			for i, w := range l.W {
				if l.Mask[i] != 0 {
					vals = append(vals, abs32(w))
				}
			}
			p.pruneSmallest(vals, len(l.W), s, li)
		}
	}
	for li := range p.net.Layers {
		l := &p.net.Layers[li]
		for i, m := range l.Mask {
			if m == 0 {
				l.W[i] = 0
			}
		}
		for i, m := range l.BMask {
			if m == 0 {
				l.B[i] = 0
			}
		}
	}
}

// pruneSmallest masks the smallest-magnitude unmasked weights so that a
// share s of total weights is masked, in layer only (or all layers when
// layer < 0). vals holds the unmasked magnitudes and is reordered.
func (p *pruner) pruneSmallest(vals []float32, total int, s float64, layer int) {
	target := int(math.Round(s * float64(total)))
	already := total - len(vals)
	k := target - already
	if k <= 0 {
		return
	}
	if k > len(vals) {
		k = len(vals)
	}
	slices.Sort(vals)
	thr := vals[k-1]
	// Prune everything strictly below the threshold, then ties in index
	// order until exactly k are pruned.
	below := 0
	for _, v := range vals[:k] {
		if v < thr {
			below++
		}
	}
	ties := k - below
	for li := range p.net.Layers {
		if layer >= 0 && li != layer {
			continue
		}
		l := &p.net.Layers[li]
		for i, w := range l.W {
			if l.Mask[i] == 0 {
				continue
			}
			a := abs32(w)
			if a < thr || (a == thr && ties > 0) {
				if a == thr {
					ties--
				}
				l.Mask[i] = 0
			}
		}
	}
}

// pruneNeurons removes, in every hidden layer, the share s of neurons with
// the smallest importance ‖incoming weights‖₂·‖outgoing weights‖₂, keeping
// at least one neuron per layer.
func (p *pruner) pruneNeurons(s float64) {
	net := p.net
	for li := 0; li+1 < len(net.Layers); li++ {
		l, next := &net.Layers[li], &net.Layers[li+1]
		width := l.Out
		target := min(int(math.Round(s*float64(width))), width-1)
		alive := 0
		score := p.scratch[:width]
		for j := 0; j < width; j++ {
			if l.BMask[j] == 0 {
				score[j] = float32(math.Inf(1))
				continue
			}
			alive++
			var in, out float64
			for _, w := range l.W[j*l.In : (j+1)*l.In] {
				in += float64(w) * float64(w)
			}
			for r := 0; r < next.Out; r++ {
				w := float64(next.W[r*next.In+j])
				out += w * w
			}
			score[j] = float32(math.Sqrt(in * out))
		}
		k := target - (width - alive)
		for ; k > 0; k-- {
			best := -1
			for j := 0; j < width; j++ {
				if l.BMask[j] != 0 && (best < 0 || score[j] < score[best]) {
					best = j
				}
			}
			l.BMask[best] = 0
			score[best] = float32(math.Inf(1))
			for i := best * l.In; i < (best+1)*l.In; i++ {
				l.Mask[i] = 0
			}
			for r := 0; r < next.Out; r++ {
				next.Mask[r*next.In+best] = 0
			}
		}
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// clearMaskedState zeroes the optimizer moments of pruned weights, so that
// together with the masked gradient they stay exactly zero.
func (f *fitter) clearMaskedState() {
	for li, l := range f.net.Layers {
		for _, st := range [][]float32{f.m1W[li], at(f.m2W, li)} {
			if st == nil {
				continue
			}
			for i, m := range l.Mask {
				if m == 0 {
					st[i] = 0
				}
			}
		}
		for _, st := range [][]float32{f.m1B[li], at(f.m2B, li)} {
			if st == nil {
				continue
			}
			for i, m := range l.BMask {
				if m == 0 {
					st[i] = 0
				}
			}
		}
	}
}

func at(s [][]float32, i int) []float32 {
	if i < len(s) {
		return s[i]
	}
	return nil
}

// Shrink removes the hidden neurons that structured pruning masked out
// (whole incoming row and bias pruned) and returns the smaller network,
// which computes the same function. Unstructured masks are kept.
func (m *MLP) Shrink() *MLP {
	keep := make([][]int, len(m.Layers))
	for li := 0; li+1 < len(m.Layers); li++ {
		l := &m.Layers[li]
		for j := 0; j < l.Out; j++ {
			if l.BMask == nil || l.BMask[j] != 0 {
				keep[li] = append(keep[li], j)
			}
		}
	}
	out := &MLP{Act: m.Act, Sizes: []int{m.Inputs()}}
	for li := range m.Layers {
		l := &m.Layers[li]
		rows := keep[li]
		if li+1 == len(m.Layers) {
			rows = seq(l.Out)
		}
		cols := seq(l.In)
		if li > 0 {
			cols = keep[li-1]
		}
		nl := Layer{In: len(cols), Out: len(rows), W: make([]float32, len(rows)*len(cols)), B: make([]float32, len(rows))}
		if l.Mask != nil {
			nl.Mask = make([]float32, len(nl.W))
		}
		for r, j := range rows {
			nl.B[r] = l.B[j]
			for c, i := range cols {
				nl.W[r*nl.In+c] = l.W[j*l.In+i]
				if l.Mask != nil {
					nl.Mask[r*nl.In+c] = l.Mask[j*l.In+i]
				}
			}
		}
		out.Layers = append(out.Layers, nl)
		out.Sizes = append(out.Sizes, nl.Out)
	}
	return out
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
