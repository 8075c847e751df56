// Package trainer trains and scores small multi-layer perceptrons: the
// work every consort trial does.
//
// It holds a deterministic float32 MLP (dense layers, ReLU or tanh, softmax
// cross-entropy; SGD with momentum or Adam; mini-batches, L2 weight decay,
// constant or cosine learning rate, early stopping on a validation split
// carved from the training fold), magnitude pruning (unstructured, global or
// per layer; structured, removing whole neurons; one-shot or gradual on the
// AGP schedule), and stratified k-fold cross-validation that yields
// per-fold metrics, out-of-fold probabilities and a refit model scored once
// on the held-out test split. Datasets, splits and standardisation live in
// the subpackage data.
//
//	train, test, _ := trainer.Split(ds, nil, 0.2, cfg.Seed)
//	rep, err := trainer.CrossValidate(ctx, cfg, train, test, trainer.CVOptions{Folds: 5, Refit: true})
//	// rep.Accuracy.Mean ± rep.Accuracy.Std, rep.OOF, rep.Test, rep.Model
//
// Matrix products go through gonum's blas32.Gemm, so a faster GEMM
// registered with blas32.Use speeds up training without touching this
// package. A training step allocates nothing: all scratch is sized when
// training starts. Same inputs, seed and machine give bit-identical
// weights.
//
// Errors: configuration problems wrap ErrConfig (as *FieldError, naming
// the field and what it allows); cancellation returns the context's error;
// data problems come from package data.
package trainer
