package deploytest

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func loadCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(readFile(t, path))
	if b == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// TestCertificates runs make-certs.sh and checks every certificate chains
// to the CA for its use and names every host the shipped configurations
// dial: Compose service names, Kubernetes pod and service names, loopback
// and the multi-host test's addresses.
func TestCertificates(t *testing.T) {
	dir := certs(t)
	roots := x509.NewCertPool()
	roots.AddCert(loadCert(t, filepath.Join(dir, "ca.crt")))
	local := []string{"localhost", "127.0.0.1", "10.77.0.1"}
	tests := []struct {
		file  string
		usage []x509.ExtKeyUsage
		hosts []string
	}{
		{"nats.crt", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, append([]string{
			"nats-1", "nats-2", "nats-3", // Compose
			"nats-0.nats-headless", "nats-2.nats-headless.consort.svc.cluster.local", // routes, consort
			"nats-headless.consort.svc.cluster.local", "nats-1.nats-headless.consort.svc.cluster.local", // KEDA
			"nats.consort.svc.cluster.local",
		}, local...)},
		{"etcd-server.crt", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, append([]string{
			"etcd-1", "etcd-2", "etcd-3", "etcd-0.etcd-headless", "etcd-2.etcd-headless.consort.svc", "etcd.consort.svc.cluster.local",
		}, local...)},
		{"etcd-peer.crt", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, append([]string{
			"etcd-1", "etcd-3", "etcd-1.etcd-headless",
		}, local...)},
		{"consort.crt", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			c := loadCert(t, filepath.Join(dir, tc.file))
			for _, u := range tc.usage {
				if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{u}}); err != nil {
					t.Errorf("does not verify for %v: %v", u, err)
				}
			}
			for _, h := range tc.hosts {
				if err := c.VerifyHostname(h); err != nil {
					t.Errorf("not valid for %s: %v", h, err)
				}
			}
			if tc.file == "consort.crt" {
				if c.Subject.String() != "CN=consort" {
					t.Errorf("subject %q, want CN=consort (the NATS user it maps to)", c.Subject)
				}
				if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
					t.Error("the client certificate also serves TLS")
				}
			}
		})
	}
	t.Run("keys are private", func(t *testing.T) {
		for _, f := range []string{"ca.key", "nats.key", "etcd-server.key", "etcd-peer.key", "consort.key"} {
			st, err := os.Stat(filepath.Join(dir, f))
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v %v, want mode 0600", f, st.Mode(), err)
			}
		}
	})
	t.Run("CA reused", func(t *testing.T) {
		d := t.TempDir()
		makeCerts(t, d)
		ca := readFile(t, filepath.Join(d, "ca.crt"))
		makeCerts(t, d)
		if string(readFile(t, filepath.Join(d, "ca.crt"))) != string(ca) {
			t.Error("a second run replaced the existing CA")
		}
	})
}

// TestScripts checks the shell scripts parse.
func TestScripts(t *testing.T) {
	for _, f := range []string{"tls/make-certs.sh", "test/multihost.sh"} {
		t.Run(f, func(t *testing.T) {
			if out, err := exec.Command("bash", "-n", deployPath(t, f)).CombinedOutput(); err != nil {
				t.Errorf("bash -n %s: %v\n%s", f, err, out)
			}
			st, err := os.Stat(deployPath(t, f))
			if err != nil || st.Mode().Perm()&0o111 == 0 {
				t.Errorf("%s is not executable (%v)", f, err)
			}
		})
	}
}
