// Package wire is the contract between consort's coordinator and its
// workers: the messages they exchange over NATS JetStream, the subjects,
// streams and buckets those travel on, and the etcd key layout that holds
// a sweep's state. Both sides import it; neither imports the other.
//
// Every message carries a version (V) and is validated on receipt by its
// Decode function: size-capped, strict JSON (unknown fields rejected),
// every field range-checked. A message that fails is an error wrapping
// ErrMessage, never a panic; the receiver logs it, counts it and drops it.
//
// Key layout in etcd (all under Prefix, "/consort/"):
//
//	/consort/sweeps/<sweep>/spec           the sweep (configs.Sweep as JSON)
//	/consort/sweeps/<sweep>/status         SweepStatus
//	/consort/sweeps/<sweep>/cancel         present when a cancel is requested
//	/consort/sweeps/<sweep>/trials/<id>    TrialRecord
//	/consort/workers/<worker>              WorkerInfo, under the worker's lease
//	/consort/delivery                      Delivery: attempts cap, ack wait
//	/consort/election/…                    coordinator leader election
//
// JetStream: stream CONSORT_TRIALS (work queue; subjects consort.trials.>)
// with the durable pull consumer "consort-workers" that all workers share;
// stream CONSORT_RESULTS (subjects consort.results.>) read by the leading
// coordinator through the durable consumer "consort-coordinator"; object
// store bucket "consort-artifacts" holding each trial's predictions and
// packed model under "<sweep>/<trial>/predictions" and "…/model".
package wire
