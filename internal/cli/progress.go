package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/term"

	"github.com/consort-ml/consort/configs"
	"github.com/consort-ml/consort/coordinator"
	"github.com/consort-ml/consort/internal/wire"
)

// progress shows a running sweep: a redrawn bar on a terminal, a plain
// line every few seconds otherwise.
type progress struct {
	w     io.Writer
	cli   *clientv3.Client
	sweep *configs.Sweep
	tty   bool
	start time.Time
	done  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	state wire.SweepState
}

func newProgress(w io.Writer, cli *clientv3.Client, sw *configs.Sweep) *progress {
	p := &progress{w: w, cli: cli, sweep: sw, start: time.Now(), done: make(chan struct{})}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	every := 5 * time.Second
	if p.tty {
		every = 500 * time.Millisecond
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
				p.draw()
			}
		}
	}()
	return p
}

func (p *progress) update(st wire.SweepStatus) {
	p.mu.Lock()
	changed := st.State != p.state
	p.state = st.State
	p.mu.Unlock()
	if changed {
		p.draw()
	}
}

func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

// draw reads the sweep and prints one line.
func (p *progress) draw() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := coordinator.Read(ctx, p.cli, p.sweep.Name)
	if err != nil {
		return
	}
	var done, running, failed, queued int
	best := 0.0
	for _, r := range s.Records {
		if r.Kind != wire.Member {
			continue
		}
		switch r.State {
		case wire.TrialDone:
			done++
			if r.Metrics != nil && r.Metrics.CVAccuracy > best {
				best = r.Metrics.CVAccuracy
			}
		case wire.Running:
			running++
		case wire.Queued:
			queued++
		default:
			failed++
		}
	}
	total := p.sweep.Budget.Trials
	elapsed := time.Since(p.start)
	eta := "?"
	if total > 0 && done > 0 && done < total {
		eta = (elapsed * time.Duration(total-done) / time.Duration(done)).Round(time.Second).String()
	} else if done >= total && total > 0 {
		eta = "0s"
	}
	line := fmt.Sprintf("%-10s members %d done, %d running, %d queued, %d failed  best CV %.4f  elapsed %s  eta %s",
		s.Status.State, done, running, queued, failed, best, elapsed.Round(time.Second), eta)
	if s.Status.State == wire.SweepEnsembling {
		var e, en int
		for _, r := range s.Records {
			if r.Kind == wire.Ensemble {
				en++
				if r.State.Final() {
					e++
				}
			}
		}
		line += fmt.Sprintf("  ensembles %d/%d", e, en)
	}
	if p.tty {
		bar := ""
		if total > 0 {
			n := min(20, 20*(done+failed)/total)
			bar = "[" + strings.Repeat("#", n) + strings.Repeat(".", 20-n) + "] "
		}
		fmt.Fprintf(p.w, "\r\033[K%s%s", bar, line)
		return
	}
	fmt.Fprintf(p.w, "%s  %s\n", time.Now().Format(time.TimeOnly), line)
}
