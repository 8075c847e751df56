#!/usr/bin/env bash
# make-certs.sh — a test CA and the certificates every consort deployment
# in deploy/ uses: NATS (client and route TLS), etcd (client and peer TLS)
# and the consort client certificate for coordinators, workers and the CLI.
#
#   deploy/tls/make-certs.sh [OUT_DIR]          (default: deploy/tls/out)
#
# Environment:
#   CONSORT_NAMESPACE  Kubernetes namespace the DNS names are made for (consort)
#   CLUSTER_DOMAIN     Kubernetes cluster domain (cluster.local)
#   EXTRA_SANS         more subjectAltNames for the NATS and etcd server
#                      certificates, e.g. "DNS:nats.example.com,IP:192.0.2.10"
#   CERT_DAYS          validity of the leaf certificates in days (825)
#
# An existing OUT_DIR/ca.crt + ca.key is reused (so leaf certificates can be
# re-issued under the same CA); everything else is written anew. Keys are
# written 0600 by the user running the script.
#
# Files (the names every manifest, unit and script in deploy/ expects):
#   ca.crt ca.key                 the test CA (keep ca.key off the cluster)
#   nats.crt nats.key             NATS servers: client port and cluster routes
#   etcd-server.crt etcd-server.key   etcd client port
#   etcd-peer.crt etcd-peer.key   etcd peer (raft) port
#   consort.crt consort.key       client certificate, subject CN=consort (the
#                                 NATS user it maps to), for every consort process
#
# This is a TEST CA for laptops, CI and first deployments. In production use
# your own PKI (cert-manager, Vault, …) and give the files the same names.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/out}
ns=${CONSORT_NAMESPACE:-consort}
domain=${CLUSTER_DOMAIN:-cluster.local}
days=${CERT_DAYS:-825}
extra=${EXTRA_SANS:-}

command -v openssl >/dev/null || { echo "make-certs.sh: openssl is not installed" >&2; exit 1; }
mkdir -p "$out"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# k8sNames SERVICE HEADLESS prints the DNS SANs of a Kubernetes service, its
# headless service (KEDA dials it) and the pods behind that.
k8sNames() {
  local svc=$1 headless=$2
  printf 'DNS:%s,DNS:%s.%s,DNS:%s.%s.svc,DNS:%s.%s.svc.%s,' "$svc" "$svc" "$ns" "$svc" "$ns" "$svc" "$ns" "$domain"
  printf 'DNS:%s,DNS:%s.%s,DNS:%s.%s.svc,DNS:%s.%s.svc.%s,' "$headless" "$headless" "$ns" "$headless" "$ns" "$headless" "$ns" "$domain"
  printf 'DNS:*.%s,DNS:*.%s.%s,DNS:*.%s.%s.svc,DNS:*.%s.%s.svc.%s' "$headless" "$headless" "$ns" "$headless" "$ns" "$headless" "$ns" "$domain"
}

# Addresses every server certificate carries: loopback and the hosts of
# deploy/test/multihost.sh (10.77.0.0/24).
local_sans="DNS:localhost,IP:127.0.0.1,IP:::1,IP:10.77.0.1,IP:10.77.0.2,IP:10.77.0.3"

if [[ -s $out/ca.crt && -s $out/ca.key ]]; then
  echo "make-certs.sh: reusing the CA in $out"
else
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$out/ca.key" -out "$out/ca.crt" -days 3650 -subj "/O=consort/CN=consort test CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

# issue NAME SUBJECT EKU SANS writes NAME.crt and NAME.key signed by the CA.
issue() {
  local name=$1 subj=$2 eku=$3 sans=$4
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$out/$name.key" -out "$tmp/$name.csr" -subj "$subj" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [[ -n $sans ]] && echo "subjectAltName=$sans"
  } >"$tmp/$name.ext"
  openssl x509 -req -in "$tmp/$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
    -CAserial "$tmp/ca.srl" -days "$days" -sha256 -extfile "$tmp/$name.ext" -out "$out/$name.crt" 2>/dev/null
  openssl verify -CAfile "$out/ca.crt" "$out/$name.crt" >/dev/null
  echo "make-certs.sh: wrote $out/$name.crt"
}

compose_nats="DNS:nats-1,DNS:nats-2,DNS:nats-3"
compose_etcd="DNS:etcd-1,DNS:etcd-2,DNS:etcd-3"
x=${extra:+,$extra}

# NATS: one certificate for the client port and the cluster routes (a route
# is a TLS client of the other servers, so it needs clientAuth too).
issue nats "/O=consort/CN=nats" serverAuth,clientAuth "$local_sans,$compose_nats,$(k8sNames nats nats-headless)$x"
# etcd: server (client port; etcd's own gateway dials it as a client) and peer.
issue etcd-server "/O=consort/CN=etcd" serverAuth,clientAuth "$local_sans,$compose_etcd,$(k8sNames etcd etcd-headless)$x"
issue etcd-peer "/O=consort/CN=etcd-peer" serverAuth,clientAuth "$local_sans,$compose_etcd,$(k8sNames etcd etcd-headless)$x"
# consort: a client certificate only. NATS maps its subject to the user
# "CN=consort"; etcd accepts any certificate signed by the CA.
issue consort "/CN=consort" clientAuth ""

chmod 0600 "$out"/*.key
chmod 0644 "$out"/*.crt
echo "make-certs.sh: done; CA $out/ca.crt"
