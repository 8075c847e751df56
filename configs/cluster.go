package configs

import (
	"errors"
	"fmt"
	"time"
)

// Cluster says how a process reaches NATS and etcd. Keys as flags:
// --nats, --nats-user, … (env CONSORT_NATS, CONSORT_NATS_USER, …).
type Cluster struct {
	// NATS and Etcd list server URLs.
	NATS []string `json:"nats"`
	Etcd []string `json:"etcd"`
	// NATS authentication: user and password, a token, or a .creds file.
	NATSUser     string `json:"nats_user"`
	NATSPassword string `json:"nats_password"`
	NATSToken    string `json:"nats_token"`
	NATSCreds    string `json:"nats_creds"`
	// NATS TLS: CA to verify the server, client certificate and key.
	NATSCA   string `json:"nats_ca"`
	NATSCert string `json:"nats_cert"`
	NATSKey  string `json:"nats_key"`
	// etcd authentication and TLS.
	EtcdUser     string `json:"etcd_user"`
	EtcdPassword string `json:"etcd_password"`
	EtcdCA       string `json:"etcd_ca"`
	EtcdCert     string `json:"etcd_cert"`
	EtcdKey      string `json:"etcd_key"`
	// Timeout bounds connecting.
	Timeout time.Duration `json:"timeout"`
}

// ClusterDefaults returns the viper defaults of every Cluster key.
func ClusterDefaults() map[string]any {
	return defaultsOf(Cluster{NATS: []string{"nats://127.0.0.1:4222"}, Etcd: []string{"http://127.0.0.1:2379"}, Timeout: 10 * time.Second})
}

// Validate checks the cluster settings.
func (c *Cluster) Validate() error {
	var errs []error
	if len(c.NATS) == 0 {
		errs = append(errs, fieldErr("nats", "[]", "one or more NATS URLs"))
	}
	if len(c.Etcd) == 0 {
		errs = append(errs, fieldErr("etcd", "[]", "one or more etcd URLs"))
	}
	n := 0
	for _, set := range []bool{c.NATSUser != "" || c.NATSPassword != "", c.NATSToken != "", c.NATSCreds != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		errs = append(errs, fieldErr("nats_user/nats_token/nats_creds", "several", "one NATS authentication method"))
	}
	if (c.NATSCert == "") != (c.NATSKey == "") {
		errs = append(errs, fieldErr("nats_cert/nats_key", "one of them", "both or neither"))
	}
	if (c.EtcdCert == "") != (c.EtcdKey == "") {
		errs = append(errs, fieldErr("etcd_cert/etcd_key", "one of them", "both or neither"))
	}
	if c.Timeout < 100*time.Millisecond || c.Timeout > 10*time.Minute {
		errs = append(errs, fieldErr("timeout", c.Timeout, "100ms..10m"))
	}
	return errors.Join(errs...)
}

// Worker configures `consort worker`.
type Worker struct {
	Cluster
	// ID names the worker; empty means host-pid.
	ID string `json:"id"`
	// Concurrency is the trials run at once; 0 means one per core.
	Concurrency int `json:"concurrency"`
	// DataRoot is the directory dataset paths must resolve under.
	DataRoot string `json:"data_root"`
	// Drain bounds finishing trials in hand after SIGTERM.
	Drain time.Duration `json:"drain"`
	// CheckpointMB bounds the memory of ASHA screens' training states,
	// kept so that their promotions continue instead of starting over;
	// 0 keeps none.
	CheckpointMB int `json:"checkpoint_mb"`
	// HTTP serves health and metrics; empty means off.
	HTTP string `json:"http"`
	// LogFormat is text or json.
	LogFormat string `json:"log_format"`
}

// WorkerDefaults returns the viper defaults of every Worker key.
func WorkerDefaults() map[string]any {
	d := ClusterDefaults()
	for k, v := range defaultsOf(Worker{Drain: 10 * time.Minute, CheckpointMB: 256, LogFormat: "text"}) {
		if _, ok := d[k]; !ok {
			d[k] = v
		}
	}
	return d
}

// Validate checks the worker settings.
func (w *Worker) Validate() error {
	errs := []error{w.Cluster.Validate()}
	if w.Concurrency < 0 || w.Concurrency > 1024 {
		errs = append(errs, fieldErr("concurrency", w.Concurrency, "0 (one per core) .. 1024"))
	}
	if w.Drain < 0 {
		errs = append(errs, fieldErr("drain", w.Drain, "≥ 0"))
	}
	if w.CheckpointMB < 0 || w.CheckpointMB > 1<<20 {
		errs = append(errs, fieldErr("checkpoint_mb", w.CheckpointMB, "0 (none) .. 1048576"))
	}
	errs = append(errs, validLogFormat(w.LogFormat))
	return errors.Join(errs...)
}

// Coordinator configures `consort coordinator`.
type Coordinator struct {
	Cluster
	// ID names the coordinator in the election.
	ID string `json:"id"`
	// SessionTTL is the leadership lease: a dead leader is replaced
	// within about this long.
	SessionTTL time.Duration `json:"session_ttl"`
	// AckWait and MaxAttempts tune trial delivery (cluster-wide).
	AckWait     time.Duration `json:"ack_wait"`
	MaxAttempts int           `json:"max_attempts"`
	// Replicas of the JetStream streams and bucket (3 on a NATS cluster).
	Replicas int `json:"replicas"`
	// HTTP serves the dashboard, health and metrics; empty means off.
	HTTP string `json:"http"`
	// LogFormat is text or json.
	LogFormat string `json:"log_format"`
}

// CoordinatorDefaults returns the viper defaults of every Coordinator key.
func CoordinatorDefaults() map[string]any {
	d := ClusterDefaults()
	for k, v := range defaultsOf(Coordinator{SessionTTL: 5 * time.Second, AckWait: 30 * time.Second, MaxAttempts: 5, Replicas: 1, LogFormat: "text"}) {
		if _, ok := d[k]; !ok {
			d[k] = v
		}
	}
	return d
}

// Validate checks the coordinator settings.
func (c *Coordinator) Validate() error {
	errs := []error{c.Cluster.Validate()}
	if c.SessionTTL < time.Second || c.SessionTTL > time.Minute {
		errs = append(errs, fieldErr("session_ttl", c.SessionTTL, "1s..1m"))
	}
	if c.AckWait < time.Second || c.AckWait > time.Hour {
		errs = append(errs, fieldErr("ack_wait", c.AckWait, "1s..1h"))
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 100 {
		errs = append(errs, fieldErr("max_attempts", c.MaxAttempts, "1..100"))
	}
	if c.Replicas != 1 && c.Replicas != 3 && c.Replicas != 5 {
		errs = append(errs, fieldErr("replicas", c.Replicas, "1, 3, 5"))
	}
	errs = append(errs, validLogFormat(c.LogFormat))
	return errors.Join(errs...)
}

func validLogFormat(f string) error {
	if f != "text" && f != "json" {
		return fieldErr("log_format", fmt.Sprintf("%q", f), "text, json")
	}
	return nil
}
