// Package worker runs consort trials: it pulls them from the JetStream
// work queue that all workers share, checks each against its sweep's
// declared space, trains and scores it (k-fold cross-validation, pruning,
// quantization, ensemble scoring, distillation — through packages trainer
// and ensemble), stores the artifacts in the object store and publishes
// the result for the coordinator.
//
//	w, err := worker.New(worker.Config{Concurrency: 2, DataRoot: "/data"}, nc, etcd)
//	err = w.Run(ctx) // until ctx ends; then drains the trials in hand
//
// Nothing that arrives over the bus is trusted: a message that does not
// decode or validate is logged, counted and terminated; parameters are
// checked against the sweep's space as stored in etcd; dataset paths
// resolve only under DataRoot; no command is ever taken from a message.
// A trial that fails for good (bad parameters, training error) is reported
// failed and not redelivered; a transient failure (bus, object store) is
// redelivered. Each trial is tried at most MaxAttempts times; the delivery
// after that marks it failed.
package worker
