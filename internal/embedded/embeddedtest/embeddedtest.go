// Package embeddedtest starts the embedded servers for tests.
package embeddedtest

import (
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/consort-ml/consort/internal/embedded"
)

// Etcd starts an embedded etcd for the test (skipped with -short) and
// returns its endpoint and a client; both are closed when the test ends.
func Etcd(t testing.TB) (string, *clientv3.Client) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts etcd")
	}
	e, err := embedded.StartEtcd(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.Endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return e.Endpoint, cli
}
