package vec

import "math"

// The generic kernels are the trainer's original scalar loops. Every
// product is wrapped in an explicit float32 conversion, which the Go
// specification says rounds and so forbids fusing it with the following
// addition into an FMA: the results are the same on every architecture
// and GOAMD64 level, and the same as the AVX2 kernels, which use no FMA.

func adamGeneric(w, g, m, v, mask []float32, l2, step, rbc2, b1, b2, eps float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	c1, c2 := 1-b1, 1-b2
	if mask == nil {
		for i := range w {
			gi := g[i] + float32(l2*w[i])
			mi := float32(b1*m[i]) + float32(c1*gi)
			vi := float32(b2*v[i]) + float32(float32(c2*gi)*gi)
			m[i], v[i] = mi, vi
			w[i] -= float32(step*mi) / (float32(sqrt32(vi)*rbc2) + eps)
		}
		return
	}
	mask = mask[:len(w)]
	for i := range w {
		gi := float32(g[i]+float32(l2*w[i])) * mask[i]
		mi := float32(b1*m[i]) + float32(c1*gi)
		vi := float32(b2*v[i]) + float32(float32(c2*gi)*gi)
		m[i], v[i] = mi, vi
		w[i] -= float32(step*mi) / (float32(sqrt32(vi)*rbc2) + eps)
	}
}

// sqrt32 is the correctly rounded float32 square root (the float64 root
// of a float32, rounded once more, is correctly rounded).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

func sgdGeneric(w, g, vel, mask []float32, l2, lr, mu float32) {
	g, vel = g[:len(w)], vel[:len(w)]
	if mask == nil {
		for i := range w {
			gi := g[i] + float32(l2*w[i])
			vi := float32(mu*vel[i]) + gi
			vel[i] = vi
			w[i] -= float32(lr * vi)
		}
		return
	}
	mask = mask[:len(w)]
	for i := range w {
		gi := float32(g[i]+float32(l2*w[i])) * mask[i]
		vi := float32(mu*vel[i]) + gi
		vel[i] = vi
		w[i] -= float32(lr * vi)
	}
}

func biasReLUGeneric(z, b []float32) {
	n := len(b)
	for r := 0; r+n <= len(z); r += n {
		row := z[r : r+n : r+n]
		b := b[:len(row)]
		for j := range row {
			// max(v, 0) without a branch: clear v when its sign bit is set
			// (a data-dependent branch mispredicts half the time).
			u := math.Float32bits(row[j] + b[j])
			row[j] = math.Float32frombits(u &^ uint32(int32(u)>>31))
		}
	}
}

func biasAddGeneric(z, b []float32) {
	n := len(b)
	for r := 0; r+n <= len(z); r += n {
		row := z[r : r+n : r+n]
		b := b[:len(row)]
		for j := range row {
			row[j] += b[j]
		}
	}
}

func reluGradGeneric(g, a []float32) {
	a = a[:len(g)]
	for i, v := range a {
		// Keep g where a's bits, as an int32, are positive (ReLU outputs
		// are +0 or positive), without a branch.
		keep := uint32(-int32(math.Float32bits(v)) >> 31)
		g[i] = math.Float32frombits(math.Float32bits(g[i]) & keep)
	}
}

func sumRowsGeneric(dst, z []float32) {
	n := len(dst)
	clear(dst)
	for r := 0; r+n <= len(z); r += n {
		row := z[r : r+n : r+n]
		j := 0
		for ; j+4 <= len(row); j += 4 {
			d, s := dst[j:j+4:j+4], row[j:j+4:j+4]
			d[0] += s[0]
			d[1] += s[1]
			d[2] += s[2]
			d[3] += s[3]
		}
		for ; j < len(row); j++ {
			dst[j] += row[j]
		}
	}
}
