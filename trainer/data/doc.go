// Package data loads classification datasets for the trainer and splits
// them honestly: built-ins embedded in the binary (digits, iris), CSV
// files, and IDX directories laid out like MNIST; seeded stratified k-fold
// and train/test splits; and feature standardisation fitted on training
// rows only.
//
// A Dataset holds float32 features row-major and int32 class indices.
// Load takes what a user types after --data:
//
//	train, test, err := data.Load("digits", data.LoadOptions{})
//	if err != nil { … }
//	if test == nil { // built-in or CSV: carve a test split
//		tr, te, err := data.TrainTestSplit(train.Y, train.NumClasses(), 0.2, seed)
//		…
//		train, test = train.Subset(tr), train.Subset(te)
//	}
//	folds, err := data.StratifiedKFold(train.Y, train.NumClasses(), 5, seed)
//	trainIdx, valIdx := data.FoldIndices(folds, 5)
//	for f := range trainIdx {
//		fit, stop := data.HoldOut(trainIdx[f], train.Y, train.NumClasses(), 0.1, seed+uint64(f))
//		std := data.FitStandardizer(train, fit) // training rows only
//		x := train.Subset(fit)
//		std.Apply(x.X, x.X)
//		… // train on x, stop early on stop, score on valIdx[f]
//	}
//
// # Errors
//
// Malformed data is an error, never a panic. Problems with a file's
// content return a *ParseError naming the file, the line as an editor
// shows it and the column (by header name, else by 1-based number), and
// matching ErrBadData: retrying will not help. Other errors callers may
// branch on: ErrUnknownBuiltin from Builtin and Load, ErrOutsideRoot from
// Load with a DataRoot, ErrTooFewSamples (a *ClassSizeError) from
// StratifiedKFold, and fs.ErrNotExist for missing files. Panics are kept
// for programmer errors: shape mismatches in Standardizer.Apply, fold or
// label values out of range in FoldIndices and HoldOut.
package data
