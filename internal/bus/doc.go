// Package bus connects consort's processes to their NATS and etcd
// clusters — URLs, authentication (NATS user/password, token or .creds
// file; etcd username/password), TLS (CA, client certificate and key) and
// a bounded connect timeout — and sets up the JetStream topology that the
// coordinator and workers share (package wire names it).
//
// An unreachable server is an error wrapping ErrUnreachable within the
// configured timeout, never a hang.
package bus
