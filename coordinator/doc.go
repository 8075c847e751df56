// Package coordinator runs consort sweeps: it proposes member trials with
// the sweep's sampler and ASHA, sends them to workers over NATS JetStream,
// records every outcome in etcd, then runs the ensemble stage — candidate
// ensembles scored by nested cross-validation on workers — picks the best,
// checks it once on the test split, exports it as a bundle and optionally
// distils it into one compressed student.
//
//	c, err := coordinator.New(coordinator.Config{ID: "c1"}, nc, etcd)
//	err = c.Run(ctx) // campaigns for leadership; leads or stands by until ctx ends
//
// All state lives in etcd (see package wire for the key layout), so any
// coordinator may die at any moment: a standby wins the election and
// resumes every unfinished sweep from etcd alone — the sampler's and
// ASHA's state are rebuilt from the ordered trial history. Every write a
// coordinator makes is an etcd transaction that compares its leadership
// key, so a deposed coordinator cannot write; results are recorded by
// compare-and-swap on the trial record, so each trial counts exactly once
// however often it is delivered. Writes are batched into transactions of
// up to MaxOps operations.
//
// Submit, Cancel and Status are the client side: they write a sweep's spec
// or a cancel request, and read a sweep's state, without leadership.
package coordinator
