// Package embedded starts the servers consort's local mode and tests run
// against: a NATS server with JetStream (github.com/nats-io/nats-server/v2
// as a library) and a single-member etcd (go.etcd.io/etcd/server/v3/embed),
// both on loopback with their data in a directory. They are the same
// servers a cluster runs, so local mode exercises the cluster code paths.
//
//	n, err := embedded.StartNATS(filepath.Join(dir, "nats"))
//	defer n.Close()
//	e, err := embedded.StartEtcd(filepath.Join(dir, "etcd"))
//	defer e.Close()
//	// n.URL, e.Endpoint
package embedded
