package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// canvas accumulates one SVG document. Coordinates are in pixels of the
// viewBox; the page's stylesheet colours elements by class.
type canvas struct {
	b    strings.Builder
	w, h float64
}

func newCanvas(id, label string, w, h float64) *canvas {
	c := &canvas{w: w, h: h}
	fmt.Fprintf(&c.b, `<svg xmlns="http://www.w3.org/2000/svg" id="%s" class="plot" viewBox="0 0 %g %g" role="img" aria-label="%s">`, esc(id), w, h, esc(label))
	return c
}

func (c *canvas) String() string { return c.b.String() + "</svg>" }

// raw appends markup as is.
func (c *canvas) raw(s string) { c.b.WriteString(s) }

func (c *canvas) open(class string) { fmt.Fprintf(&c.b, `<g class="%s">`, class) }
func (c *canvas) close()            { c.b.WriteString("</g>") }

func (c *canvas) line(class string, x1, y1, x2, y2 float64) {
	fmt.Fprintf(&c.b, `<line class="%s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, class, x1, y1, x2, y2)
}

func (c *canvas) rect(class string, x, y, w, h float64) {
	fmt.Fprintf(&c.b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, class, x, y, w, h)
}

// text writes a label; anchor is start, middle or end.
func (c *canvas) text(class, anchor string, x, y float64, s string) {
	fmt.Fprintf(&c.b, `<text class="%s" text-anchor="%s" x="%.1f" y="%.1f">%s</text>`, class, anchor, x, y, esc(s))
}

// vtext writes a label rotated to read upwards, centred on (x, y).
func (c *canvas) vtext(class string, x, y float64, s string) {
	fmt.Fprintf(&c.b, `<text class="%s" text-anchor="middle" transform="translate(%.1f %.1f) rotate(-90)">%s</text>`, class, x, y, esc(s))
}

// polyline draws a path through the points.
func (c *canvas) polyline(class string, xs, ys []float64) {
	if len(xs) == 0 {
		return
	}
	fmt.Fprintf(&c.b, `<path class="%s" d="`, class)
	for i := range xs {
		if i == 0 {
			fmt.Fprintf(&c.b, "M%.1f %.1f", xs[i], ys[i])
		} else {
			fmt.Fprintf(&c.b, "L%.1f %.1f", xs[i], ys[i])
		}
	}
	c.b.WriteString(`"/>`)
}

// point is a plotted datum: a circle carrying data-* attributes that
// the page's script shows on hover and tests read back.
type point struct {
	x, y, r float64
	class   string
	attrs   [][2]string // name (without "data-"), value
}

func (c *canvas) point(p point) {
	fmt.Fprintf(&c.b, `<circle class="%s" cx="%.1f" cy="%.1f" r="%g"`, p.class, p.x, p.y, p.r)
	for _, a := range p.attrs {
		fmt.Fprintf(&c.b, ` data-%s="%s"`, a[0], esc(a[1]))
	}
	c.b.WriteString("/>")
}

func esc(s string) string { return html.EscapeString(s) }

// frame is a plot area inside a canvas: the axes' scales and the box
// they map to.
type frame struct {
	c        *canvas
	x, y     scale
	l, t     float64 // left, top of the plot area
	r, b     float64 // right, bottom
	xfmt     func(float64) string
	yfmt     func(float64) string
	xticks   []float64
	yticks   []float64
	xlabel   string
	ylabel   string
	xcats    []string // categorical x labels at 0, 1, …
	noYTicks bool
}

// margins around a frame's plot area.
const (
	marginL = 56
	marginR = 14
	marginT = 14
	marginB = 42
)

func newFrame(c *canvas, left, top, w, h float64) *frame {
	f := &frame{c: c, l: left + marginL, t: top + marginT, r: left + w - marginR, b: top + h - marginB}
	return f
}

// setX and setY fix the scales' pixel ranges.
func (f *frame) setX(s scale) { s.a, s.b = f.l, f.r; f.x = s }
func (f *frame) setY(s scale) { s.a, s.b = f.b, f.t; f.y = s }

// axes draws the grid, ticks and labels.
func (f *frame) axes() {
	c := f.c
	c.open("axes")
	c.rect("area", f.l, f.t, f.r-f.l, f.b-f.t)
	if f.xcats != nil {
		for i, s := range f.xcats {
			x := f.x.at(float64(i))
			c.text("tick", "middle", x, f.b+16, s)
		}
	} else {
		for _, v := range f.xticks {
			x := f.x.at(v)
			c.line("grid", x, f.t, x, f.b)
			c.text("tick", "middle", x, f.b+16, f.xfmt(v))
		}
	}
	if !f.noYTicks {
		for _, v := range f.yticks {
			y := f.y.at(v)
			c.line("grid", f.l, y, f.r, y)
			c.text("tick", "end", f.l-6, y+4, f.yfmt(v))
		}
	}
	if f.xlabel != "" {
		c.text("label", "middle", (f.l+f.r)/2, f.b+34, f.xlabel)
	}
	if f.ylabel != "" {
		c.vtext("label", f.l-44, (f.t+f.b)/2, f.ylabel)
	}
	c.close()
}

// scale maps a data interval [lo, hi] to pixels [a, b], linearly or on
// a log scale.
type scale struct {
	lo, hi float64
	a, b   float64
	log    bool
}

func (s scale) at(v float64) float64 {
	lo, hi := s.lo, s.hi
	if s.log {
		v, lo, hi = math.Log(math.Max(v, s.lo)), math.Log(lo), math.Log(hi)
	}
	if hi == lo {
		return (s.a + s.b) / 2
	}
	t := (v - lo) / (hi - lo)
	t = math.Max(0, math.Min(1, t))
	return s.a + t*(s.b-s.a)
}

// linearScale spans [lo, hi] widened by pad of its width on each side
// (a degenerate interval is widened to something visible).
func linearScale(lo, hi, pad float64) scale {
	if !(hi > lo) {
		d := math.Max(math.Abs(lo)*0.01, 1e-3)
		lo, hi = lo-d, hi+d
	}
	w := hi - lo
	return scale{lo: lo - pad*w, hi: hi + pad*w}
}

// logScale spans [lo, hi] (both > 0) widened by the factor pad.
func logScale(lo, hi, pad float64) scale {
	lo, hi = math.Max(lo, 1e-300), math.Max(hi, 1e-300)
	if !(hi > lo) {
		lo, hi = lo/2, hi*2
	}
	return scale{lo: lo / pad, hi: hi * pad, log: true}
}

// linearTicks returns round values covering [lo, hi], about n of them,
// and the spacing between them.
func linearTicks(lo, hi float64, n int) ([]float64, float64) {
	if !(hi > lo) || n < 1 {
		return []float64{lo}, 0
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		t := math.Round(v/step) * step
		if t == 0 {
			t = 0 // not -0
		}
		out = append(out, t)
	}
	return out, step
}

// logTicks returns ticks at 1, 2 and 5 times powers of ten in [lo, hi],
// thinned to at most about n.
func logTicks(lo, hi float64, n int) []float64 {
	var out []float64
	for _, mult := range [][]float64{{1, 2, 5}, {1, 3}, {1}} {
		out = out[:0]
		for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
			for _, m := range mult {
				v := m * math.Pow(10, e)
				if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
					out = append(out, v)
				}
			}
		}
		if len(out) <= n {
			break
		}
	}
	if len(out) > n { // many decades: every k-th decade
		k := (len(out) + n - 1) / n
		thin := out[:0:0]
		for i := 0; i < len(out); i += k {
			thin = append(thin, out[i])
		}
		out = thin
	}
	return out
}

// byteTicks returns ticks at powers of two (times 1, 4, 16, … as needed
// to keep about n) in [lo, hi]: they read as whole KiB and MiB.
func byteTicks(lo, hi float64, n int) []float64 {
	for k := 1.0; ; k++ {
		var out []float64
		for e := math.Floor(math.Log2(lo)); e <= math.Ceil(math.Log2(hi)); e++ {
			if math.Mod(e, k) != 0 {
				continue
			}
			if v := math.Pow(2, e); v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
				out = append(out, v)
			}
		}
		if len(out) <= n || k > 10 {
			return out
		}
	}
}

// HumanBytes renders a byte count in binary units: "840 B", "3.8 KiB",
// "1.2 MiB".
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, u := float64(n), 0
	for v >= unit && u < 4 {
		v /= unit
		u++
	}
	prec := 1
	if v >= 100 || v == math.Trunc(v) {
		prec = 0
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + " " + []string{"B", "KiB", "MiB", "GiB", "TiB"}[u]
}

// Percent renders an accuracy as a percentage with d decimals.
func Percent(a float64, d int) string { return strconv.FormatFloat(100*a, 'f', d, 64) + "%" }

// percentTick formats a tick of an accuracy axis whose ticks are step
// apart, with as few decimals as the step needs.
func percentTick(step float64) func(float64) string {
	d := 0
	for s := step * 100; d < 3 && math.Abs(s-math.Round(s)) > 1e-6; s *= 10 {
		d++
	}
	return func(v float64) string { return Percent(v, d) }
}

// number formats a parameter value compactly.
func number(v float64) string {
	switch a := math.Abs(v); {
	case v == math.Trunc(v) && a < 1e6:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 0.01 && a < 1000:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	s := strconv.FormatFloat(v, 'e', 0, 64) // 5e-04
	s = strings.Replace(s, "e-0", "e-", 1)
	return strings.Replace(s, "e+0", "e", 1)
}
