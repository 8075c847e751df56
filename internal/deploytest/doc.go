// Package deploytest validates the deployment files in deploy/ against the
// consort they deploy. It has no API: its tests read ../../deploy and
//
//   - run the Dockerfile's build-stage `go build` command line locally (same
//     flags, CGO_ENABLED=0) and check the result is a static binary that
//     reports the version the ldflags set;
//   - parse docker-compose.yml and check every consort command and CONSORT_*
//     variable is a real flag of the built binary (from `consort CMD --help`),
//     that NATS routes and the etcd cluster name every member, and that TLS
//     is on everywhere;
//   - decode every Kubernetes manifest, patch and kustomization strictly into
//     typed objects (k8s.io/api; KEDA's ScaledObject into a local struct) and
//     check cross-references: selectors, probes on the --http port, flags,
//     Secrets and ConfigMaps, mounted TLS files, network policy ports; and,
//     when kubectl is installed, the same on each overlay as rendered by
//     `kubectl kustomize`;
//   - check the systemd units with `systemd-analyze verify` when present;
//   - run deploy/tls/make-certs.sh and check the certificates verify for
//     every host name the configurations dial, and check the NATS server
//     configurations with `nats-server -t` when nats-server is installed.
//
// Tests that build the binary or run tools are skipped under -short.
package deploytest
