// Package faulttest holds consort's end-to-end fault test against external
// NATS and etcd servers: coordinator and worker processes are killed with
// SIGKILL while a sweep runs, and the outcome must equal a fault-free run's,
// trial for trial. It runs when CONSORT_E2E_NATS and CONSORT_E2E_ETCD name
// the servers (.ci/run starts Debian's nats-server and etcd and sets them).
package faulttest
