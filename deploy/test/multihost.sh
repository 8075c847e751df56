#!/usr/bin/env bash
# multihost.sh — consort across three "hosts" made with network namespaces,
# over TLS, through a network partition.
#
#   bash deploy/test/multihost.sh          (from the repository root, as root)
#
#   host A 10.77.0.1  NATS (JetStream) and etcd, TLS on both, client certs required
#   host B 10.77.0.2  consort coordinator (--ack-wait 5s), the CLI, and a
#                     worker that runs only while C is cut off
#   host C 10.77.0.3  two consort workers, configured by an environment file
#                     in the format of deploy/systemd/consort.env
#
# The hosts hang off a bridge inside a fourth namespace (the "switch"), so
# nothing is added to the root namespace. The test submits deploy/test/
# sweep.yaml, waits until C's workers hold trials in flight, unplugs C from
# the switch for CUT_SECONDS (longer than the trial ack wait and the
# workers' etcd lease) while a worker on B takes over the trials C held
# (B's worker stops once it has finished one of them, so the rest of the
# sweep is left for C), plugs C back in, and then checks that
#   - the sweep ends "done" (consort status) within SWEEP_TIMEOUT;
#   - in etcd every trial record is final, the member trials number exactly
#     the budget and all of them are done;
#   - a trial C held was redelivered (a record with attempts > 1): the cut
#     really hit work in flight;
#   - the coordinator recorded exactly one result per finished trial
#     (consort_results_recorded_total = final records), counting the late
#     ones as duplicates (consort_results_duplicate_total);
#   - the work queue is empty (no pending or unacknowledged trial);
#   - C's workers finished trials after they rejoined.
#
# Environment: CONSORT_BIN (a built consort; default: build ./cmd/consort),
# CUT_SECONDS (20), SWEEP_TIMEOUT (300), KEEP_WORKDIR=1 (keep logs and state).
# Needs root, iproute2, openssl, curl, jq and Debian's nats-server,
# etcd-server and etcd-client (installed with apt-get when missing).
set -euo pipefail

CUT_SECONDS=${CUT_SECONDS:-20}
SWEEP_TIMEOUT=${SWEEP_TIMEOUT:-300}
ACK_WAIT=5s
SWEEP=multihost

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
start=$SECONDS

log() { printf '%s multihost: %s\n' "$(date +%T)" "$*"; }
die() { log "FAIL: $*"; exit 1; }

[[ $(id -u) == 0 ]] || die "must run as root (network namespaces)"

# --- tools ------------------------------------------------------------------
need=()
for t in ip:iproute2 openssl:openssl curl:curl jq:jq nats-server:nats-server etcd:etcd-server etcdctl:etcd-client; do
  command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
if ((${#need[@]})); then
  command -v apt-get >/dev/null || die "missing ${need[*]} and no apt-get"
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null >/dev/null
fi

work=$(mktemp -d /tmp/consort-multihost.XXXXXX)
tag=$$
nsA=cmh$tag-a nsB=cmh$tag-b nsC=cmh$tag-c nsS=cmh$tag-sw
pids=()
ok=0

cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  for ns in "$nsA" "$nsB" "$nsC" "$nsS"; do ip netns del "$ns" 2>/dev/null || true; done
  if ((ok == 0)); then
    log "logs (last 40 lines each) from $work:"
    for f in "$work"/*.log; do
      [[ -f $f ]] || continue
      echo "----- $(basename "$f")"
      tail -n 40 "$f"
    done
  fi
  if [[ ${KEEP_WORKDIR:-} == 1 ]]; then
    log "kept $work"
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- consort ----------------------------------------------------------------
if [[ -n ${CONSORT_BIN:-} ]]; then
  bin=$CONSORT_BIN
else
  log "building consort"
  CGO_ENABLED=0 go build -trimpath -o "$work/consort" ./cmd/consort
  bin=$work/consort
fi
"$bin" version

# --- certificates -----------------------------------------------------------
bash deploy/tls/make-certs.sh "$work/tls" >/dev/null
tls=$work/tls

# --- network: A, B, C on a bridge inside the switch namespace ---------------
ip netns add "$nsS"
ip -n "$nsS" link add br0 type bridge
ip -n "$nsS" link set br0 up
ip -n "$nsS" link set lo up
i=0
for h in a b c; do
  i=$((i + 1))
  ns=cmh$tag-$h
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  # host side "eth0", switch side "p<host>"
  ip link add "cmh$tag$h" type veth peer name "cmh$tag${h}p"
  ip link set "cmh$tag$h" netns "$ns"
  ip link set "cmh$tag${h}p" netns "$nsS"
  ip -n "$ns" link set "cmh$tag$h" name eth0
  ip -n "$nsS" link set "cmh$tag${h}p" name "p$h"
  ip -n "$nsS" link set "p$h" master br0
  ip -n "$nsS" link set "p$h" up
  ip -n "$ns" addr add "10.77.0.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
done
A=10.77.0.1 B=10.77.0.2 C=10.77.0.3

# reach NS HOST PORT: can NS open a TCP connection to HOST:PORT?
reach() { ip netns exec "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; }

# bg NS LOG CMD... starts CMD in namespace NS in the background.
bg() {
  local ns=$1 logf=$2
  shift 2
  ip netns exec "$ns" "$@" </dev/null >"$work/$logf" 2>&1 &
  pids+=($!)
}

# waitfor SECONDS WHAT CMD... retries CMD until it succeeds.
waitfor() {
  local limit=$1 what=$2
  shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || die "timed out after ${limit}s waiting for $what"
    sleep 0.5
  done
}

# --- host A: NATS with JetStream, etcd; TLS with client certificates --------
cat >"$work/nats.conf" <<EOF
server_name: host-a
listen: $A:4222
http: $A:8222
tls {
  cert_file: "$tls/nats.crt"
  key_file: "$tls/nats.key"
  ca_file: "$tls/ca.crt"
  verify_and_map: true
  timeout: 5
}
authorization {
  users = [ { user: "CN=consort" } ]
}
jetstream {
  store_dir: "$work/nats"
  max_memory_store: 256MB
  max_file_store: 1GB
}
EOF
bg "$nsA" nats.log nats-server -c "$work/nats.conf"
bg "$nsA" etcd.log etcd --name host-a --data-dir "$work/etcd" \
  --listen-client-urls "https://$A:2379" --advertise-client-urls "https://$A:2379" \
  --listen-peer-urls "https://$A:2380" --initial-advertise-peer-urls "https://$A:2380" \
  --initial-cluster "host-a=https://$A:2380" --initial-cluster-state new \
  --cert-file "$tls/etcd-server.crt" --key-file "$tls/etcd-server.key" \
  --trusted-ca-file "$tls/ca.crt" --client-cert-auth \
  --peer-cert-file "$tls/etcd-peer.crt" --peer-key-file "$tls/etcd-peer.key" \
  --peer-trusted-ca-file "$tls/ca.crt" --peer-client-cert-auth

etcdctl_b() {
  ip netns exec "$nsB" env ETCDCTL_API=3 etcdctl --endpoints "https://$A:2379" \
    --cacert "$tls/ca.crt" --cert "$tls/consort.crt" --key "$tls/consort.key" "$@"
}
waitfor 30 "etcd on A" etcdctl_b endpoint health
waitfor 30 "NATS on A" ip netns exec "$nsB" curl -fsS "http://$A:8222/healthz?js-enabled-only=true"
# TLS is enforced: a client without a certificate is refused by both.
if ip netns exec "$nsB" env ETCDCTL_API=3 etcdctl --endpoints "https://$A:2379" --cacert "$tls/ca.crt" \
  --dial-timeout 3s --command-timeout 3s get /consort/ >/dev/null 2>&1; then
  die "etcd accepted a client without a certificate"
fi
reach "$nsC" "$A" 4222 || die "C cannot reach NATS on A"
log "A: NATS and etcd up (TLS, client certificates required)"

# --- host B: coordinator (cluster settings as flags) ------------------------
cluster_flags=(--nats "tls://$A:4222" --etcd "https://$A:2379"
  --nats-ca "$tls/ca.crt" --nats-cert "$tls/consort.crt" --nats-key "$tls/consort.key"
  --etcd-ca "$tls/ca.crt" --etcd-cert "$tls/consort.crt" --etcd-key "$tls/consort.key")
bg "$nsB" coordinator.log "$bin" coordinator "${cluster_flags[@]}" --id coordinator-b \
  --ack-wait "$ACK_WAIT" --max-attempts 5 --replicas 1 --http "$B:8080" --log-format json
leading() { ip netns exec "$nsB" curl -fsS "http://$B:8080/metrics" | grep -qx 'consort_coordinator_leading 1'; }
waitfor 60 "the coordinator to lead" leading
waitfor 10 "the coordinator's /readyz" ip netns exec "$nsB" curl -fsS "http://$B:8080/readyz"
log "B: coordinator leading"

# --- workers: C's configured like a systemd EnvironmentFile -----------------
cat >"$work/consort.env" <<EOF
CONSORT_NATS=tls://$A:4222
CONSORT_ETCD=https://$A:2379
CONSORT_NATS_CA=$tls/ca.crt
CONSORT_NATS_CERT=$tls/consort.crt
CONSORT_NATS_KEY=$tls/consort.key
CONSORT_ETCD_CA=$tls/ca.crt
CONSORT_ETCD_CERT=$tls/consort.crt
CONSORT_ETCD_KEY=$tls/consort.key
CONSORT_CONCURRENCY=1
CONSORT_DATA_ROOT=$work/data
CONSORT_DRAIN=30s
CONSORT_LOG_FORMAT=json
EOF
mkdir -p "$work/data"
mapfile -t envs < <(grep -v '^#' "$work/consort.env")
for k in 1 2; do
  bg "$nsC" "worker-c$k.log" env "${envs[@]}" CONSORT_ID="worker-c$k" CONSORT_HTTP="$C:809$k" "$bin" worker
done
for k in 1 2; do
  waitfor 30 "worker-c$k's /readyz" ip netns exec "$nsC" curl -fsS "http://$C:809$k/readyz"
done

cli() { ip netns exec "$nsB" "$bin" "$@" "${cluster_flags[@]}"; }
registered() { cli status | grep -q "^$1 workers alive"; }
waitfor 30 "2 workers registered in etcd" registered 2
log "workers up: $(cli status | tail -n 1)"

# --- the sweep, and the cut -------------------------------------------------
cli submit deploy/test/sweep.yaml
running_on_c() {
  local n=0 k v
  for k in 1 2; do
    v=$(ip netns exec "$nsC" curl -fsS "http://$C:809$k/metrics" | awk '$1=="consort_worker_trials_running"{print $2}')
    n=$((n + ${v:-0}))
  done
  ((n >= 1))
}
waitfor 120 "a trial in flight on host C" running_on_c
log "C holds trials in flight; unplugging C for ${CUT_SECONDS}s (ack wait $ACK_WAIT)"
cut_at=$SECONDS
ip -n "$nsS" link set pc down
if reach "$nsC" "$A" 4222; then die "C still reaches A after the cut"; fi
# A worker on B runs only while C is cut off: it takes the trials C held
# once their ack wait expires, so their late results from C are duplicates.
bg "$nsB" worker-b1.log "$bin" worker "${cluster_flags[@]}" --id worker-b1 --concurrency 1 \
  --data-root "$work/data" --drain 30s --http "$B:8091" --log-format json
wb=${pids[-1]}
# Once B has finished a trial C held (attempts > 1), stop B's worker (it
# drains): the rest of the sweep is left for C.
took_over() {
  etcdctl_b get --prefix "/consort/sweeps/$SWEEP/trials/" --print-value-only |
    jq -se 'any(.[]; .attempts > 1 and .state == "done")' >/dev/null
}
waitfor "$CUT_SECONDS" "B's worker to finish a trial C held" took_over
log "B's worker finished a trial C held; stopping it (it drains)"
kill -TERM "$wb"
wait "$wb" || die "B's worker did not drain cleanly"
sleep $((CUT_SECONDS - (SECONDS - cut_at) > 0 ? CUT_SECONDS - (SECONDS - cut_at) : 0))
ip -n "$nsS" link set pc up
log "C plugged back in after $((SECONDS - cut_at))s"
waitfor 30 "C to reach A again" reach "$nsC" "$A" 4222

# --- wait for the end -------------------------------------------------------
state() { cli status "$SWEEP" 2>/dev/null | awk '$1=="sweep"{print $3}'; }
end=$((SECONDS + SWEEP_TIMEOUT))
st=""
while :; do
  st=$(state || true)
  case $st in done | failed | cancelled) break ;; esac
  ((SECONDS < end)) || { cli status "$SWEEP" || true; die "sweep not finished after ${SWEEP_TIMEOUT}s (state '$st')"; }
  sleep 1
done
cli status "$SWEEP" | tee "$work/status.txt"
[[ $st == done ]] || die "sweep ended $st"

# --- checks -----------------------------------------------------------------
etcdctl_b get --prefix "/consort/sweeps/$SWEEP/trials/" --print-value-only | jq -s '.' >"$work/trials.json"
budget=$(awk '$1=="budget:"{b=1} b&&$1=="trials:"{print $2; exit}' deploy/test/sweep.yaml)
members=$(jq '[.[] | select(.kind=="member")] | length' "$work/trials.json")
members_done=$(jq '[.[] | select(.kind=="member" and .state=="done" and .metrics!=null)] | length' "$work/trials.json")
finals=$(jq '[.[] | select(.state=="done" or .state=="failed" or .state=="stopped")] | length' "$work/trials.json")
recorded_states=$(jq '[.[] | select(.state=="done" or .state=="failed")] | length' "$work/trials.json")
total=$(jq 'length' "$work/trials.json")
redelivered=$(jq -r '[.[] | select(.attempts > 1) | "\(.id) attempts=\(.attempts) worker=\(.worker)"] | join(", ")' "$work/trials.json")
metric() { ip netns exec "$nsB" curl -fsS "http://$B:8080/metrics" | awk -v m="$1" '$1==m{print $2}'; }
recorded=$(metric consort_results_recorded_total)
duplicates=$(metric consort_results_duplicate_total)
jsz=$(ip netns exec "$nsB" curl -fsS "http://$A:8222/jsz?consumers=true")
pending=$(jq '[.account_details[]?.stream_detail[]? | select(.name=="CONSORT_TRIALS") | .consumer_detail[]? | select(.name=="consort-workers") | .num_pending + .num_ack_pending] | add // -1' <<<"$jsz")

log "trials in etcd: $total ($members members, $members_done done; $finals final)"
log "coordinator: recorded $recorded results, ignored $duplicates duplicates"
log "redelivered: ${redelivered:-none}"
((total > 0)) || die "no trial records in etcd"
((finals == total)) || die "$((total - finals)) trial records are not final"
((members == budget)) || die "$members member trials, budget $budget"
((members_done == budget)) || die "$members_done of $budget member trials done"
[[ -n $redelivered ]] || die "no trial was redelivered: the cut hit no work in flight"
[[ $recorded == "$recorded_states" ]] || die "coordinator recorded $recorded results for $recorded_states finished trials"
[[ $pending == 0 ]] || die "work queue not drained: $pending trials pending or unacknowledged"
grep -q '^best ' "$work/status.txt" || die "no best ensemble on the leaderboard"
c_done=0
for k in 1 2; do
  v=$(ip netns exec "$nsC" curl -fsS "http://$C:809$k/metrics" | awk '$1=="consort_worker_trials_total{outcome=\"done\"}"{print $2}')
  c_done=$((c_done + ${v:-0}))
done
log "host C's workers finished $c_done trials after rejoining"
((c_done > 0)) || die "host C's workers did no work after the link came back"

ok=1
log "PASS in $((SECONDS - start))s"
