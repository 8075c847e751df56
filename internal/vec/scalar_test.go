package vec

import "math"

// The trainer's scalar loops as they stood before this package (from
// trainer/fit.go and trainer/mlp.go), kept verbatim as the benchmarks'
// baseline and, where the compiler does not fuse multiply-adds, as a
// bit-for-bit oracle (trainer_loops_test.go).

func scalarAdam(w, g, m, v, mask []float32, l2, step, rbc2, b1, b2, eps float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i := range w {
		gi := g[i] + l2*w[i]
		if mask != nil {
			gi *= mask[i]
		}
		mi := b1*m[i] + (1-b1)*gi
		vi := b2*v[i] + (1-b2)*gi*gi
		m[i], v[i] = mi, vi
		w[i] -= step * mi / (float32(math.Sqrt(float64(vi)))*rbc2 + eps)
	}
}

func scalarSGD(w, g, vel, mask []float32, l2, lr, mu float32) {
	g, vel = g[:len(w)], vel[:len(w)]
	for i := range w {
		gi := g[i] + l2*w[i]
		if mask != nil {
			gi *= mask[i]
		}
		vi := mu*vel[i] + gi
		vel[i] = vi
		w[i] -= lr * vi
	}
}

// scalarBiasAct is the trainer's biasAct; tanh when neither relu nor
// linear.
func scalarBiasAct(z, b []float32, relu, linear bool) {
	n := len(b)
	for r := 0; r+n <= len(z); r += n {
		row := z[r : r+n : r+n]
		switch {
		case linear:
			b := b[:len(row)]
			for j := range row {
				row[j] += b[j]
			}
		case relu:
			b := b[:len(row)]
			for j := range row {
				u := math.Float32bits(row[j] + b[j])
				row[j] = math.Float32frombits(u &^ uint32(int32(u)>>31))
			}
		default:
			for j := range row {
				row[j] = float32(math.Tanh(float64(row[j] + b[j])))
			}
		}
	}
}

func scalarTanhGrad(g, a []float32) {
	for i, v := range a {
		g[i] *= 1 - v*v
	}
}

func scalarReLUGrad(g, a []float32) {
	a = a[:len(g)]
	for i, v := range a {
		keep := uint32(-int32(math.Float32bits(v)) >> 31)
		g[i] = math.Float32frombits(math.Float32bits(g[i]) & keep)
	}
}

// scalarSumRows is the trainer's bias-gradient loop.
func scalarSumRows(gb, data []float32) {
	n := len(gb)
	clear(gb)
	for r := 0; r*n < len(data); r++ {
		row := data[r*n : (r+1)*n]
		for j, v := range row {
			gb[j] += v
		}
	}
}
