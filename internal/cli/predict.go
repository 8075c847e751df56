package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/consort-ml/consort/trainer"
	"github.com/consort-ml/consort/trainer/data"
	"github.com/consort-ml/consort/trainer/packed"
)

type predictOptions struct {
	model, data, label, header string
	unlabeled, asJSON, quiet   bool
}

func newPredictCommand(s *streams, configFile *string) *cobra.Command {
	o := &predictOptions{}
	cmd := &cobra.Command{
		Use:   "predict --model FILE --data CSV|IDX",
		Short: "Classify data with a packed model or ensemble bundle",
		Long: `Classify data with a packed model (consort train --save) or an ensemble
bundle (best.consort of a sweep), using its integer kernels. Prints one line
per sample — index, predicted class, its probability — and the accuracy
when the data has labels. --data is a CSV file (the label column as in
consort train; --unlabeled when there is none) or an IDX directory (its
t10k-* files, else train-*).`,
		Example: "  consort predict --model runs/quickstart/best.consort --data digits.csv\n  consort predict --model m.consort --data features.csv --unlabeled",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.model == "" || o.data == "" {
				return usageError(fmt.Errorf("predict needs --model and --data"))
			}
			return runPredict(s, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "packed model or bundle file")
	f.StringVar(&o.data, "data", "", "CSV file, IDX directory or built-in dataset name")
	f.StringVar(&o.label, "label", "", "CSV label column: header name or 1-based column number (default last)")
	f.StringVar(&o.header, "header", "auto", "CSV header row: auto, yes, no")
	f.BoolVar(&o.unlabeled, "unlabeled", false, "the CSV has no label column")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object")
	f.BoolVar(&o.quiet, "quiet", false, "print only the summary")
	return cmd
}

func runPredict(s *streams, o *predictOptions) error {
	m, err := packed.Load(o.model)
	if err != nil {
		return usageError(err)
	}
	hm, err := data.ParseHeaderMode(o.header)
	if err != nil {
		return usageError(err)
	}
	ds, test, err := data.Load(o.data, data.LoadOptions{CSV: data.CSVOptions{Label: o.label, Header: hm, Unlabeled: o.unlabeled}})
	if err != nil {
		return usageError(err)
	}
	if test != nil {
		ds = test // an IDX directory: predict its test split
	}
	if ds.D != m.Inputs() {
		return usageError(fmt.Errorf("%s has %d feature%s per sample, the model takes %d", ds.Name, ds.D, plural(ds.D), m.Inputs()))
	}
	labels := m.Labels()
	c := len(labels)
	probs := make([]float32, ds.N*c)
	if err := m.Proba(probs, ds.X, ds.N); err != nil {
		return err
	}
	// With labels: map the data's classes onto the model's by name.
	var truth []int32
	if !o.unlabeled {
		truth = make([]int32, ds.N)
		for i, y := range ds.Y {
			k := slices.Index(labels, ds.Classes[y])
			if k < 0 {
				return usageError(fmt.Errorf("%s: class %q is not one the model knows (%v)", ds.Name, ds.Classes[y], labels))
			}
			truth[i] = int32(k)
		}
	}
	type pred struct {
		Index int     `json:"index"`
		Class string  `json:"class"`
		Prob  float32 `json:"probability"`
	}
	preds := make([]pred, ds.N)
	for i := range preds {
		k := trainer.Argmax(probs[i*c : (i+1)*c])
		preds[i] = pred{i, labels[k], probs[i*c+k]}
	}
	var score *trainer.Metrics
	if truth != nil {
		m := trainer.Score(probs, truth, c)
		score = &m
	}
	if o.asJSON {
		out := struct {
			Model       string           `json:"model"`
			Data        string           `json:"data"`
			Samples     int              `json:"samples"`
			Accuracy    *float64         `json:"accuracy,omitempty"`
			Metrics     *trainer.Metrics `json:"metrics,omitempty"`
			Predictions []pred           `json:"predictions,omitempty"`
		}{Model: o.model, Data: ds.Name, Samples: ds.N, Metrics: score}
		if score != nil {
			out.Accuracy = &score.Accuracy
		}
		if !o.quiet {
			out.Predictions = preds
		}
		return json.NewEncoder(s.out).Encode(out)
	}
	w := bufio.NewWriter(s.out)
	if !o.quiet {
		for _, p := range preds {
			fmt.Fprintf(w, "%d\t%s\t%.4f\n", p.Index, p.Class, p.Prob)
		}
	}
	if score != nil {
		fmt.Fprintf(w, "accuracy %.4f on %d samples (macro-F1 %.4f, log-loss %.4f)\n", score.Accuracy, ds.N, score.MacroF1, score.LogLoss)
	} else {
		fmt.Fprintf(w, "%d samples classified\n", ds.N)
	}
	return w.Flush()
}
