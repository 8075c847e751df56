package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/term"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/dashboard"
	"github.com/consort-ml/consort/internal/report"
	"github.com/consort-ml/consort/internal/wire"
)

// progress shows a running sweep in one of three forms: on a terminal a
// bar redrawn in place (new bests printed above it); otherwise a plain
// line when something changed (at most every 5 s, at least every 30 s);
// or, with --log-format json, the same events as slog JSON records.
type progress struct {
	w      io.Writer
	follow *dashboard.Follower
	sweep  *configs.Sweep
	tty    bool
	width  func() int
	log    *slog.Logger // JSON mode
	start  time.Time

	done   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	finish sync.Once // the closing line

	mu       sync.Mutex // guards what follows and the output
	state    wire.SweepState
	bestID   string
	bestAcc  float64
	base     int       // trials already finished when we started (a resumed sweep)
	lastLine string    // the last plain line printed
	lastAt   time.Time // when
	barShown bool      // a bar is on the terminal's last line
}

// progressCounts summarises a sweep's trials for a progress line.
type progressCounts struct {
	report.Counts
	elapsed time.Duration
	eta     time.Duration // < 0: unknown
}

// newProgress starts showing the sweep on w; logFormat "json" selects
// JSON records.
func newProgress(w io.Writer, cli *clientv3.Client, sw *configs.Sweep, logFormat string) *progress {
	p := &progress{w: w, follow: dashboard.NewFollower(cli, sw.Name), sweep: sw, start: time.Now(), done: make(chan struct{}), base: -1,
		width: func() int { return 100 }}
	every := 5 * time.Second
	switch f, ok := w.(*os.File); {
	case logFormat == "json":
		p.log = slog.New(slog.NewJSONHandler(w, nil)).With("sweep", sw.Name)
	case ok && term.IsTerminal(int(f.Fd())):
		p.tty, every = true, 500*time.Millisecond
		p.width = func() int {
			if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
				return cols
			}
			return 100
		}
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				p.draw(false)
			}
		}
	}()
	return p
}

// update is called with each status change; a final status draws the
// last line and stops the display.
func (p *progress) update(st wire.SweepStatus) {
	p.mu.Lock()
	changed := st.State != p.state
	p.state = st.State
	p.mu.Unlock()
	if st.State.Final() {
		p.stop()
		p.finish.Do(func() { p.draw(true) })
		return
	}
	if changed {
		p.draw(false)
	}
}

// stop ends the display; it is idempotent.
func (p *progress) stop() {
	p.once.Do(func() {
		close(p.done)
		p.wg.Wait()
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.barShown {
			fmt.Fprint(p.w, "\r\033[K")
			p.barShown = false
		}
	})
}

// draw reads the sweep and shows it; final draws the closing line.
func (p *progress) draw(final bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	s, _, err := p.follow.Read(ctx)
	if err != nil {
		return
	}
	c := p.count(s)
	// New bests, in the order they finished; with ASHA only fully trained
	// members count (a screen is neither refitted nor shippable).
	top := p.sweep.ASHA.TopEpochs()
	var better []*wire.TrialRecord
	for _, r := range s.Records {
		if r.Kind == wire.Member && r.State == wire.TrialDone && r.Metrics != nil && r.Epochs >= top && r.Metrics.CVAccuracy > p.bestAcc {
			better = append(better, r)
		}
	}
	slices.SortStableFunc(better, func(a, b *wire.TrialRecord) int { return a.FinishedAt.Compare(b.FinishedAt) })
	for _, r := range better {
		if r.Metrics.CVAccuracy > p.bestAcc {
			p.bestAcc, p.bestID = r.Metrics.CVAccuracy, r.ID
			p.newBest(r)
		}
	}
	switch {
	case p.log != nil:
		line := p.plain(s, c)
		if final || line != p.lastLine {
			p.lastLine = line
			attrs := []any{"state", string(s.Status.State), "done", c.Done, "running", c.Running, "queued", c.Queued,
				"failed", c.Failed, "budget", c.Budget, "ensembles", c.Ensembles, "ensembles_done", c.EnsemblesDone,
				"best_trial", p.bestID, "best_cv", p.bestAcc, "elapsed_s", c.elapsed.Seconds()}
			if c.eta >= 0 { // unknown until trials finish
				attrs = append(attrs, "eta_s", c.eta.Seconds())
			}
			p.log.Info("progress", attrs...)
		}
	case p.tty && !final:
		fmt.Fprintf(p.w, "\r\033[K%s", p.bar(s, c))
		p.barShown = true
	case final:
		if p.barShown {
			fmt.Fprint(p.w, "\r\033[K")
			p.barShown = false
		}
		line := fmt.Sprintf("%s  sweep %s after %s: %d members (%d failed)", time.Now().Format(time.TimeOnly), s.Status.State,
			report.Duration(c.elapsed), c.Done+c.Failed+c.Stopped, c.Failed)
		if c.Ensembles > 0 {
			line += fmt.Sprintf(", %d ensemble candidates", c.Ensembles)
		}
		if p.bestID != "" {
			line += fmt.Sprintf("; best member %s %s", p.bestID, report.Percent(p.bestAcc, 2))
		}
		fmt.Fprintln(p.w, line)
	default:
		line := p.plain(s, c)
		// Print on change (the clock aside), or every 30 s.
		if line != p.lastLine || time.Since(p.lastAt) >= 30*time.Second {
			fmt.Fprintf(p.w, "%s  %s  elapsed %s\n", time.Now().Format(time.TimeOnly), line, report.Duration(c.elapsed))
			p.lastLine, p.lastAt = line, time.Now()
		}
	}
}

// newBest reports a new best member above the bar (or as a line).
func (p *progress) newBest(r *wire.TrialRecord) {
	m := r.Metrics
	if p.log != nil {
		p.log.Info("new best", "trial", r.ID, "cv", m.CVAccuracy, "size_bytes", m.SizeBytes, "bits", m.Bits, "sparsity", m.Sparsity, "epochs", m.Epochs)
		return
	}
	if p.barShown {
		fmt.Fprint(p.w, "\r\033[K")
		p.barShown = false
	}
	fmt.Fprintf(p.w, "%s  new best  %s  CV %s  %s, %d-bit, %s sparse, %d epochs\n", time.Now().Format(time.TimeOnly), r.ID,
		report.Percent(m.CVAccuracy, 2), report.HumanBytes(m.SizeBytes), m.Bits, report.Percent(m.Sparsity, 0), m.Epochs)
}

// count tallies the trials and estimates the time left from the rate at
// which trials finished since this display started.
func (p *progress) count(s *coordinator.Sweep) progressCounts {
	c := progressCounts{Counts: report.Count(s), elapsed: time.Since(p.start), eta: -1}
	c.Budget = p.sweep.Budget.Trials
	ended := c.Done + c.Failed + c.Stopped
	if p.base < 0 {
		p.base = ended
	}
	switch s.Status.State {
	case wire.SweepRunning:
		if c.Budget > 0 && ended > p.base && ended < c.Budget {
			c.eta = time.Duration(float64(c.elapsed) / float64(ended-p.base) * float64(c.Budget-ended))
		}
		if w := p.sweep.Budget.Wall; w > 0 && !s.Status.Started.IsZero() {
			left := w - time.Since(s.Status.Started)
			if c.eta < 0 || left < c.eta {
				c.eta = max(left, 0)
			}
		}
	case wire.SweepEnsembling:
		if c.Ensembles > 0 && c.EnsemblesDone == c.Ensembles {
			c.eta = 0
		}
	}
	return c
}

// plain is the progress line without a bar or clock.
func (p *progress) plain(s *coordinator.Sweep, c progressCounts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s", s.Status.State)
	ended := c.Done + c.Failed + c.Stopped
	if c.Budget > 0 {
		fmt.Fprintf(&b, " members %d/%d", ended, c.Budget)
	} else {
		fmt.Fprintf(&b, " members %d", ended)
	}
	fmt.Fprintf(&b, " (%d running, %d queued, %d failed)", c.Running, c.Queued, c.Failed)
	if c.Ensembles > 0 {
		fmt.Fprintf(&b, "  ensembles %d/%d", c.EnsemblesDone, c.Ensembles)
	}
	if p.bestID != "" {
		fmt.Fprintf(&b, "  best %s %s", report.Percent(p.bestAcc, 2), p.bestID)
	}
	if c.eta >= 0 {
		fmt.Fprintf(&b, "  eta %s", report.Duration(c.eta))
	}
	return b.String()
}

// bar is the terminal line: a bar of the current stage and the counts,
// the least useful details dropped to fit the terminal's width.
func (p *progress) bar(s *coordinator.Sweep, c progressCounts) string {
	ended := c.Done + c.Failed + c.Stopped
	stage, num, den := "members", ended, c.Budget
	if s.Status.State == wire.SweepEnsembling || s.Status.State.Final() {
		stage, num, den = "ensembles", c.EnsemblesDone, c.Ensembles
	}
	type part struct {
		text string
		keep int // higher is kept longer
	}
	parts := []part{{fmt.Sprintf("%s %d", stage, num), 9}}
	if den > 0 {
		parts[0].text = fmt.Sprintf("%s %d/%d", stage, num, den)
	}
	if s.Status.State == wire.SweepPending {
		parts[0].text = "waiting for the coordinator"
	}
	if c.Running > 0 || c.Queued > 0 {
		parts = append(parts, part{fmt.Sprintf("%d running", c.Running), 4}, part{fmt.Sprintf("%d queued", c.Queued), 1})
	}
	if c.Failed > 0 {
		parts = append(parts, part{fmt.Sprintf("%d failed", c.Failed), 6})
	}
	if p.bestID != "" {
		parts = append(parts, part{fmt.Sprintf("best %s %s", report.Percent(p.bestAcc, 2), p.bestID), 8})
	}
	parts = append(parts, part{report.Duration(c.elapsed), 2})
	if c.eta >= 0 {
		parts = append(parts, part{"eta " + report.Duration(c.eta), 7})
	}
	join := func() string {
		var ts []string
		for _, p := range parts {
			ts = append(ts, p.text)
		}
		return strings.Join(ts, " · ")
	}
	width := p.width() - 1 // never touch the last column: some terminals wrap there
	text := join()
	for len([]rune(text))+12 > width && len(parts) > 1 {
		low := 1
		for i, p := range parts[1:] {
			if p.keep < parts[low].keep {
				low = i + 1
			}
		}
		parts = append(parts[:low], parts[low+1:]...)
		text = join()
	}
	cells := min(30, width-len([]rune(text))-3)
	if den <= 0 || cells < 8 {
		return clip(text, width)
	}
	full := min(cells, cells*num/den)
	return clip("["+strings.Repeat("█", full)+strings.Repeat("░", cells-full)+"] "+text, width)
}
