// Package artifact holds what trials leave behind and how it is combined:
// a trial's predictions (trainer.Predictions) and packed model, turned into
// an ensemble.Problem for ensemble scoring; fetched from the JetStream
// object store with a bounded cache; and saved to or loaded from a trial
// directory (trial.json, predictions.bin, model.consort) for offline use by
// `consort train --out` and `consort ensemble`.
package artifact
