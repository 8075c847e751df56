package cli

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/consort-ml/consort/ensemble"
	"github.com/consort-ml/consort/internal/artifact"
	"github.com/consort-ml/consort/trainer"
	"github.com/consort-ml/consort/trainer/packed"
)

type ensembleOptions struct {
	methods    []string
	budget     int64
	maxMembers int
	asJSON     bool
	save       string
	top        int
}

func newEnsembleCommand(s *streams) *cobra.Command {
	o := &ensembleOptions{}
	cmd := &cobra.Command{
		Use:   "ensemble DIR...",
		Short: "Combine saved trials into ensembles, scored by nested CV (offline, no cluster)",
		Long: `Combine trial directories written by 'consort train --out DIR' (trained on the
same data with the same --split-seed) into ensembles: simple and weighted
averages, majority vote, Caruana selection and stacking, each scored by
nested cross-validation on the members' out-of-fold predictions — fitted on
K−1 folds, scored on the remaining one — and ranked. The best is refitted
on all out-of-fold predictions and scored once on the test split.`,
		Example: "  consort ensemble trials/*\n  consort ensemble trials/* --budget 30000 --method caruana,stacking --save best.consort",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(errors.New("ensemble needs at least one trial directory"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, m := range o.methods {
				if !slices.Contains(ensemble.Methods(), m) || m == ensemble.MethodWeighted {
					return usageError(fmt.Errorf("--method %q: allowed average, vote, inverse-error, optimized, caruana, stacking", m))
				}
			}
			if o.budget < 0 || o.maxMembers < 0 || o.top < 1 {
				return usageError(fmt.Errorf("--budget, --max-members must be ≥ 0 and --top ≥ 1"))
			}
			return runEnsemble(cmd, s, o, args)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.methods, "method", nil, "methods to try (default all): average, vote, inverse-error, optimized, caruana, stacking")
	f.Int64Var(&o.budget, "budget", 0, "size budget: members' packed bytes sum to at most this (0: none)")
	f.IntVar(&o.maxMembers, "max-members", 0, "at most this many members (0: no limit)")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object")
	f.StringVar(&o.save, "save", "", "write the chosen ensemble as a bundle that 'consort predict' runs")
	f.IntVar(&o.top, "top", 20, "rows to print")
	return cmd
}

// ensembleRow is one scored candidate.
type ensembleRow struct {
	Rank    int                `json:"rank"`
	Name    string             `json:"name"`
	Method  string             `json:"method"`
	Members []string           `json:"members"`
	CV      ensemble.CV        `json:"cv"`
	Bytes   int64              `json:"bytes"`
	Weights map[string]float64 `json:"weights,omitempty"`
	Test    *ensemble.Scores   `json:"test,omitempty"`
	Chosen  bool               `json:"chosen"`
	spec    ensemble.Spec
}

func runEnsemble(cmd *cobra.Command, s *streams, o *ensembleOptions, dirs []string) error {
	ctx := cmd.Context()
	var (
		ids    []string
		preds  []*trainer.Predictions
		bytes  []int64
		models []*packed.Model
		trials []*artifact.Trial
	)
	for _, d := range dirs {
		t, p, m, err := artifact.LoadTrial(d)
		if err != nil {
			return usageError(err)
		}
		if slices.Contains(ids, t.ID) {
			return usageError(fmt.Errorf("two trial directories are called %s", t.ID))
		}
		ids, preds, bytes, models, trials = append(ids, t.ID), append(preds, p), append(bytes, t.Bytes), append(models, m), append(trials, t)
	}
	p, err := artifact.Problem(ids, preds, bytes)
	if err != nil {
		return usageError(err)
	}
	// The best single member, by its own CV accuracy on these folds.
	best := 0
	for i, t := range trials {
		if t.CVAccuracy > trials[best].CVAccuracy {
			best = i
		}
	}
	members := p.Members
	var budgets []int64
	if o.budget > 0 {
		budgets = []int64{o.budget}
	}
	specs := []ensemble.Spec{}
	seen := map[string]bool{}
	add := func(sp ensemble.Spec) {
		if o.budget > 0 && (sp.MaxBytes == 0 || sp.MaxBytes > o.budget) {
			sp.MaxBytes = o.budget
		}
		if o.maxMembers > 0 && (sp.MaxMembers == 0 || sp.MaxMembers > o.maxMembers) {
			sp.MaxMembers = o.maxMembers
		}
		key := fmt.Sprintf("%s|%s|%d|%d|%d", sp.Method, sp.Features, sp.Bags, sp.MaxBytes, sp.MaxMembers)
		if seen[key] || sp.Validate() != nil {
			return
		}
		seen[key] = true
		specs = append(specs, sp)
	}
	if o.budget == 0 || bytes[best] <= o.budget {
		add(ensemble.Spec{Name: "single " + ids[best], Method: ensemble.MethodAverage, Members: []string{ids[best]}})
	}
	for _, sp := range ensemble.DefaultSpecs(members, budgets...) {
		if len(o.methods) == 0 || slices.Contains(o.methods, sp.Method) {
			add(sp)
		}
	}
	rows := make([]ensembleRow, len(specs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, sp := range specs {
		g.Go(func() error {
			res, err := ensemble.Evaluate(gctx, sp, p)
			if err != nil {
				if errors.Is(err, ensemble.ErrBudget) {
					return nil // nothing fits: leave the row out
				}
				return fmt.Errorf("%s: %w", sp.Name, err)
			}
			rows[i] = ensembleRow{Name: sp.Name, Method: sp.Method, Members: res.Members, CV: res.CV, Bytes: res.Bytes, Weights: res.Weights, spec: sp}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	rows = slices.DeleteFunc(rows, func(r ensembleRow) bool { return r.Name == "" })
	if len(rows) == 0 {
		return usageError(errors.New("no ensemble fits the budget"))
	}
	slices.SortStableFunc(rows, func(a, b ensembleRow) int {
		return cmp.Or(-cmp.Compare(a.CV.Mean.Accuracy, b.CV.Mean.Accuracy), cmp.Compare(a.CV.Mean.LogLoss, b.CV.Mean.LogLoss), cmp.Compare(a.Bytes, b.Bytes))
	})
	for i := range rows {
		rows[i].Rank = i + 1
	}
	// The winner is refitted on all OOF rows and scored once on test.
	win := &rows[0]
	win.Chosen = true
	final, err := ensemble.Final(ctx, win.spec, p)
	if err != nil && !errors.Is(err, ensemble.ErrNoTest) {
		return err
	}
	if err == nil {
		win.Test = final.Test
	}
	if o.save != "" {
		if final.Combiner == nil {
			if final, err = ensemble.Evaluate(ctx, win.spec, p); err != nil {
				return err
			}
		}
		sub := make([]*packed.Model, len(win.spec.Members))
		for i, id := range win.spec.Members {
			sub[i] = models[slices.Index(ids, id)]
		}
		b, err := artifact.Bundle(final.Combiner, sub)
		if err != nil {
			return err
		}
		if _, err := packed.WriteFile(o.save, b); err != nil {
			return err
		}
	}
	single := trials[best]
	if o.asJSON {
		out := struct {
			Members      int           `json:"members"`
			BestSingle   string        `json:"best_single"`
			BestSingleCV float64       `json:"best_single_cv_accuracy"`
			Rows         []ensembleRow `json:"rows"`
			Saved        string        `json:"saved,omitempty"`
		}{len(ids), single.ID, single.CVAccuracy, rows, o.save}
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printEnsembles(s.out, rows, o.top, single, len(ids))
	if o.save != "" {
		fmt.Fprintf(s.out, "saved    %s (run it with: consort predict --model %s --data DATA)\n", o.save, o.save)
	}
	return nil
}

func printEnsembles(w io.Writer, rows []ensembleRow, top int, single *artifact.Trial, n int) {
	fmt.Fprintf(w, "%d members; best single member %s: CV accuracy %.4f ± %.4f\n\n", n, single.ID, single.CVAccuracy, single.CVAccuracyStd)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tCANDIDATE\tMEMBERS\tNESTED-CV ACC\tSTD\tLOG-LOSS\tSIZE\tTEST")
	for i, r := range rows {
		if i >= top {
			break
		}
		test := "-"
		if r.Test != nil {
			test = fmt.Sprintf("%.4f", r.Test.Accuracy)
		}
		mark := ""
		if r.Chosen {
			mark = " *"
		}
		fmt.Fprintf(tw, "%d\t%s%s\t%d\t%.4f\t%.4f\t%.4f\t%s\t%s\n", r.Rank, r.Name, mark, len(r.Members), r.CV.Mean.Accuracy, r.CV.Std.Accuracy, r.CV.Mean.LogLoss, humanBytes(r.Bytes), test)
	}
	tw.Flush()
	w0 := rows[0]
	fmt.Fprintf(w, "\nchosen   %s: nested-CV accuracy %.4f (%+.2f points over the best single member), %s, members %s\n",
		w0.Name, w0.CV.Mean.Accuracy, 100*(w0.CV.Mean.Accuracy-single.CVAccuracy), humanBytes(w0.Bytes), strings.Join(w0.Members, " "))
}
