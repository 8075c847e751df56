package bus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/consort-ml/consort/internal/wire"
)

// ErrUnreachable marks a server that could not be reached in time.
var ErrUnreachable = errors.New("unreachable")

// TLSFiles names PEM files for TLS. All empty means no TLS.
type TLSFiles struct {
	// CA verifies the server; Cert and Key authenticate this client.
	CA, Cert, Key string
}

func (t TLSFiles) enabled() bool { return t.CA != "" || t.Cert != "" || t.Key != "" }

// config builds a tls.Config from the files.
func (t TLSFiles) config() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CA != "" {
		pem, err := os.ReadFile(t.CA)
		if err != nil {
			return nil, fmt.Errorf("tls ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca %s: no certificates", t.CA)
		}
		c.RootCAs = pool
	}
	if (t.Cert == "") != (t.Key == "") {
		return nil, fmt.Errorf("tls: a client certificate needs both cert and key")
	}
	if t.Cert != "" {
		pair, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// Config says how to reach NATS and etcd.
type Config struct {
	// NATS lists NATS server URLs.
	NATS []string `json:"nats"`
	// NATSUser and NATSPassword, NATSToken, or NATSCreds (a .creds file)
	// authenticate to NATS; at most one method.
	NATSUser     string `json:"nats_user"`
	NATSPassword string `json:"nats_password"`
	NATSToken    string `json:"nats_token"`
	NATSCreds    string `json:"nats_creds"`
	// NATSTLS configures TLS to NATS.
	NATSTLS TLSFiles `json:"nats_tls"`
	// Etcd lists etcd client URLs.
	Etcd []string `json:"etcd"`
	// EtcdUser and EtcdPassword authenticate to etcd.
	EtcdUser     string `json:"etcd_user"`
	EtcdPassword string `json:"etcd_password"`
	// EtcdTLS configures TLS to etcd.
	EtcdTLS TLSFiles `json:"etcd_tls"`
	// Timeout bounds connecting; zero means 10s.
	Timeout time.Duration `json:"timeout"`
	// Name identifies this client to the servers.
	Name string `json:"-"`
}

func (c *Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 10 * time.Second
	}
	return c.Timeout
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if len(c.NATS) == 0 {
		errs = append(errs, errors.New("nats: no server URL"))
	}
	if len(c.Etcd) == 0 {
		errs = append(errs, errors.New("etcd: no endpoint"))
	}
	methods := 0
	for _, set := range []bool{c.NATSUser != "" || c.NATSPassword != "", c.NATSToken != "", c.NATSCreds != ""} {
		if set {
			methods++
		}
	}
	if methods > 1 {
		errs = append(errs, errors.New("nats: use one of user/password, token or creds"))
	}
	return errors.Join(errs...)
}

// The client pings the server every pingInterval and declares the
// connection dead (and reconnects) when maxPingsOut pings in a row go
// unanswered.
const (
	pingInterval = 5 * time.Second
	maxPingsOut  = 2
)

// DialNATS connects to NATS, failing within the timeout when no server
// answers. Once connected, the client reconnects on its own.
func DialNATS(ctx context.Context, c *Config) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(c.Name),
		nats.Timeout(c.timeout()),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		// Fail fast while disconnected instead of buffering: a pull
		// request buffered during an outage would be sent on reconnect
		// after its fetch gave up, and JetStream would deliver trials into
		// an inbox nobody reads (each then waits a full ack wait). Every
		// caller retries.
		nats.ReconnectBufSize(-1),
		// Notice a silent outage (a partition drops packets without a
		// reset) within about 15 s instead of the default 4 minutes.
		// Until the client notices, its pull requests queue in the
		// socket, reach the server when the network heals and, with the
		// fetch long given up, each takes a trial into an inbox nobody
		// reads: the same full ack wait as a buffered one. Closing the
		// dead socket discards them.
		nats.PingInterval(pingInterval),
		nats.MaxPingsOutstanding(maxPingsOut),
	}
	switch {
	case c.NATSUser != "":
		opts = append(opts, nats.UserInfo(c.NATSUser, c.NATSPassword))
	case c.NATSToken != "":
		opts = append(opts, nats.Token(c.NATSToken))
	case c.NATSCreds != "":
		opts = append(opts, nats.UserCredentials(c.NATSCreds))
	}
	if c.NATSTLS.enabled() {
		tc, err := c.NATSTLS.config()
		if err != nil {
			return nil, fmt.Errorf("nats: %w", err)
		}
		opts = append(opts, nats.Secure(tc))
	}
	type result struct {
		nc  *nats.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		nc, err := nats.Connect(strings.Join(c.NATS, ","), opts...)
		done <- result{nc, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("nats %s: %w: %w", strings.Join(c.NATS, ","), ErrUnreachable, r.err)
		}
		return r.nc, nil
	case <-ctx.Done():
		go func() {
			if r := <-done; r.nc != nil {
				r.nc.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// DialEtcd connects to etcd and checks, within the timeout, that it
// answers.
func DialEtcd(ctx context.Context, c *Config) (*clientv3.Client, error) {
	cfg := clientv3.Config{
		Endpoints:   c.Etcd,
		DialTimeout: c.timeout(),
		Username:    c.EtcdUser,
		Password:    c.EtcdPassword,
		Logger:      zap.NewNop(),
		Context:     context.WithoutCancel(ctx),
	}
	if c.EtcdTLS.enabled() {
		tc, err := c.EtcdTLS.config()
		if err != nil {
			return nil, fmt.Errorf("etcd: %w", err)
		}
		cfg.TLS = tc
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcd %s: %w: %w", strings.Join(c.Etcd, ","), ErrUnreachable, err)
	}
	pctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	if _, err := cli.Get(pctx, wire.Prefix+"ping", clientv3.WithCountOnly()); err != nil {
		cli.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("etcd %s: %w: %w", strings.Join(c.Etcd, ","), ErrUnreachable, err)
	}
	return cli, nil
}

// Topology tunes the JetStream streams and consumers.
type Topology struct {
	// AckWait is how long a trial may go without an (in-progress) ack
	// before JetStream redelivers it. Zero means 30s.
	AckWait time.Duration
	// MaxAttempts is how many times a trial is tried; the delivery after
	// that marks it failed. Zero means 5.
	MaxAttempts int
	// Replicas of streams and buckets (1 on one server, 3 on a cluster).
	// Zero means 1.
	Replicas int
}

func (t Topology) normal() Topology {
	if t.AckWait <= 0 {
		t.AckWait = 30 * time.Second
	}
	if t.MaxAttempts <= 0 {
		t.MaxAttempts = 5
	}
	if t.Replicas <= 0 {
		t.Replicas = 1
	}
	return t
}

// DefaultID names a process that was given no id: "<host>-<pid>".
func DefaultID() string {
	host, _ := os.Hostname()
	return host + "-" + strconv.Itoa(os.Getpid())
}

// MaxAttemptsKey names the workers' consumer metadata entry holding the
// number of attempts a trial gets.
const MaxAttemptsKey = "consort_max_attempts"

// Normal returns the topology with its defaults filled in.
func (t Topology) Normal() Topology { return t.normal() }

// MaxAttempts reads the attempts cap from the workers' consumer metadata
// (NATS 2.10 and later keep it; older servers drop it).
func MaxAttempts(info *jetstream.ConsumerInfo) int {
	n, err := strconv.Atoi(info.Config.Metadata[MaxAttemptsKey])
	if err != nil || n < 1 {
		return 5
	}
	return n
}

// Setup creates or updates the streams, consumers and the artifact bucket
// (idempotent; the coordinator calls it when it takes the lead, workers
// when they start).
func Setup(ctx context.Context, js jetstream.JetStream, t Topology) error {
	t = t.normal()
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        wire.TrialsStream,
		Description: "consort trials waiting for a worker (work queue)",
		Subjects:    []string{wire.TrialsSubjects},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
		Duplicates:  10 * time.Minute,
		MaxMsgSize:  wire.MaxMessage,
	}); err != nil {
		return fmt.Errorf("bus: stream %s: %w", wire.TrialsStream, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        wire.ResultsStream,
		Description: "consort trial results for the coordinator",
		Subjects:    []string{wire.ResultsSubjects},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
		Duplicates:  10 * time.Minute,
		MaxAge:      7 * 24 * time.Hour,
		MaxMsgSize:  wire.MaxMessage,
	}); err != nil {
		return fmt.Errorf("bus: stream %s: %w", wire.ResultsStream, err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, wire.TrialsStream, jetstream.ConsumerConfig{
		Durable:     wire.WorkersConsumer,
		Description: "all consort workers share this pull consumer",
		AckPolicy:   jetstream.AckExplicitPolicy,
		AckWait:     t.AckWait,
		// Deliveries are unlimited so that no trial can be stranded (a
		// worker killed during a capped last delivery would leave it
		// neither redelivered nor failed); the worker that receives
		// delivery MaxAttempts+1 marks the trial failed instead.
		MaxDeliver:    -1,
		MaxAckPending: 100000,
		FilterSubject: wire.TrialsSubjects,
		Metadata:      map[string]string{MaxAttemptsKey: strconv.Itoa(t.MaxAttempts)},
	}); err != nil {
		return fmt.Errorf("bus: consumer %s: %w", wire.WorkersConsumer, err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, wire.ResultsStream, jetstream.ConsumerConfig{
		Durable:       wire.CoordinatorConsumer,
		Description:   "the leading consort coordinator reads results here",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxAckPending: 100000,
		FilterSubject: wire.ResultsSubjects,
	}); err != nil {
		return fmt.Errorf("bus: consumer %s: %w", wire.CoordinatorConsumer, err)
	}
	if _, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      wire.ArtifactsBucket,
		Description: "consort trial artifacts: predictions and packed models",
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
	}); err != nil {
		return fmt.Errorf("bus: object store %s: %w", wire.ArtifactsBucket, err)
	}
	return nil
}
