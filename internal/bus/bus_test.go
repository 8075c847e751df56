package bus

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"

	"github.com/consort-ml/consort/internal/embedded"
)

func natsServer(t *testing.T, o *server.Options) string {
	t.Helper()
	o.Host, o.Port, o.NoLog, o.NoSigs = "127.0.0.1", -1, true, true
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s.ClientURL()
}

func TestNATSAuthentication(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
	ctx := context.Background()
	userURL := natsServer(t, &server.Options{Username: "consort", Password: "s3cret"})
	tokenURL := natsServer(t, &server.Options{Authorization: "t0ken"})
	for _, tc := range []struct {
		name string
		conf Config
		ok   bool
	}{
		{"user and password", Config{NATS: []string{userURL}, NATSUser: "consort", NATSPassword: "s3cret"}, true},
		{"wrong password", Config{NATS: []string{userURL}, NATSUser: "consort", NATSPassword: "nope"}, false},
		{"no credentials", Config{NATS: []string{userURL}}, false},
		{"token", Config{NATS: []string{tokenURL}, NATSToken: "t0ken"}, true},
		{"wrong token", Config{NATS: []string{tokenURL}, NATSToken: "nope"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.conf.Timeout = 2 * time.Second
			nc, err := DialNATS(ctx, &tc.conf)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				nc.Close()
				return
			}
			if err == nil {
				nc.Close()
				t.Fatal("connected with bad credentials")
			}
			if !errors.Is(err, ErrUnreachable) || !strings.Contains(strings.ToLower(err.Error()), "authorization") {
				t.Fatalf("error %v: want an authorization failure", err)
			}
		})
	}
}

func TestEtcdAuthentication(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	ctx := context.Background()
	e, err := embedded.StartEtcd(filepath.Join(t.TempDir(), "etcd"))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	admin, err := DialEtcd(ctx, &Config{Etcd: []string{e.Endpoint}})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { _, err := admin.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := admin.UserAdd(ctx, "consort", "pw"); return err },
		func() error { _, err := admin.RoleAdd(ctx, "consort"); return err },
		func() error {
			_, err := admin.RoleGrantPermission(ctx, "consort", "/consort/", clientv3.GetPrefixRangeEnd("/consort/"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := admin.UserGrantRole(ctx, "consort", "consort"); return err },
		func() error { _, err := admin.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	admin.Close()
	ok, err := DialEtcd(ctx, &Config{Etcd: []string{e.Endpoint}, EtcdUser: "consort", EtcdPassword: "pw", Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ok.Put(ctx, "/consort/x", "1"); err != nil {
		t.Fatalf("authenticated write: %v", err)
	}
	ok.Close()
	if c, err := DialEtcd(ctx, &Config{Etcd: []string{e.Endpoint}, EtcdUser: "consort", EtcdPassword: "wrong", Timeout: 3 * time.Second}); err == nil {
		c.Close()
		t.Fatal("connected with a wrong password")
	}
}

// TestNATSNoticesSilentOutage cuts a client off through a proxy that stops
// forwarding without closing anything — a partition, not a crash — and
// checks the client gives the connection up within pingInterval ×
// (maxPingsOut + 1) plus slack, instead of NATS's default four minutes
// (during which its pull requests would queue in the dead socket).
func TestNATSNoticesSilentOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the ping timeout")
	}
	url := natsServer(t, &server.Options{})
	target := strings.TrimPrefix(url, "nats://")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		cut  atomic.Bool
		wg   sync.WaitGroup
		mu   sync.Mutex
		open []net.Conn
	)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if err != nil {
				dst.Close()
				return
			}
			if !cut.Load() { // cut: swallow the bytes, like a dead link
				if _, err := dst.Write(buf[:n]); err != nil {
					src.Close()
					return
				}
			}
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			open = append(open, c, s)
			mu.Unlock()
			wg.Add(2)
			go pipe(s, c)
			go pipe(c, s)
		}
	}()
	nc, err := DialNATS(context.Background(), &Config{NATS: []string{"nats://" + ln.Addr().String()}, Timeout: 2 * time.Second})
	defer func() {
		if nc != nil {
			nc.Close()
		}
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	if err != nil {
		t.Fatal(err)
	}
	cut.Store(true)
	start := time.Now()
	limit := pingInterval*(maxPingsOut+1) + 5*time.Second
	for nc.IsConnected() {
		if time.Since(start) > limit {
			t.Fatalf("client still connected %v after the link went silent", limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("client noticed the silent outage after %v", time.Since(start).Round(time.Second))
}
