package embedded

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// NATS is a running embedded NATS server with JetStream.
type NATS struct {
	// Server is the running server.
	Server *server.Server
	// URL is its client URL (nats://127.0.0.1:port).
	URL  string
	once sync.Once
}

// StartNATS starts a NATS server with JetStream on a free loopback port,
// storing streams under dir. It returns once the server accepts clients.
func StartNATS(dir string) (*NATS, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded: nats: %w", err)
	}
	o := &server.Options{
		ServerName: "consort-local",
		Host:       "127.0.0.1",
		Port:       -1,
		NoLog:      true,
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   dir,
		MaxPayload: 8 << 20,
	}
	s, err := server.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("embedded: nats: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(15 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("embedded: nats: not ready after 15s")
	}
	return &NATS{Server: s, URL: s.ClientURL()}, nil
}

// Close shuts the server down and waits for it; it is idempotent.
func (n *NATS) Close() {
	n.once.Do(func() {
		n.Server.Shutdown()
		n.Server.WaitForShutdown()
	})
}

// Etcd is a running single-member embedded etcd.
type Etcd struct {
	// Etcd is the running server.
	Etcd *embed.Etcd
	// Endpoint is its client URL (http://127.0.0.1:port).
	Endpoint string
	once     sync.Once
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartEtcd starts a single-member etcd on free loopback ports with its
// data under dir, silent, and returns once it serves clients.
func StartEtcd(dir string) (*Etcd, error) {
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		e, err := startEtcd(dir)
		if err == nil {
			return e, nil
		}
		last = err
	}
	return nil, last
}

func startEtcd(dir string) (*Etcd, error) {
	cp, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("embedded: etcd: %w", err)
	}
	pp, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("embedded: etcd: %w", err)
	}
	cfg := embed.NewConfig()
	cfg.Name = "consort-local"
	cfg.Dir = dir
	client := url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(cp)}
	peer := url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(pp)}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.LogLevel = "error"
	// Local mode writes a lot of small keys; keep the backend and history
	// bounded.
	cfg.AutoCompactionMode = "revision"
	cfg.AutoCompactionRetention = "10000"
	cfg.QuotaBackendBytes = 2 << 30
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("embedded: etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Server.Stop()
		e.Close()
		return nil, fmt.Errorf("embedded: etcd: not ready after 30s")
	}
	return &Etcd{Etcd: e, Endpoint: client.String()}, nil
}

// Close stops etcd and waits for it; it is idempotent.
func (e *Etcd) Close() { e.once.Do(e.Etcd.Close) }
