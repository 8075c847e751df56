#!/usr/bin/env bash
# Dispatch throughput of the distributed runtime, through real (embedded)
# NATS JetStream and etcd in one process:
#   - trials per second with a trainer that does nothing (5,000 trials);
#   - throughput from 1 to 16 workers with a trainer that takes 100 ms,
#     as a share of linear scaling.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-3}
go test -run XXX -bench 'Dispatch|Scaling' -benchtime 1x -count "$COUNT" ./internal/local |
  awk '/^Benchmark/ {
    name=$1; sub(/-[0-9]+$/, "", name)
    for (i = 3; i <= NF; i++) if ($(i+1) == "trials/s") r[name] = r[name] " " $i; else if ($(i+1) == "%linear") l[name] = l[name] " " $i
  }
  END {
    printf "%-32s %-28s %s\n", "benchmark", "trials/s (runs)", "% of linear (runs)"
    for (n in r) printf "%-32s %-28s %s\n", n, r[n], l[n]
  }' | sort
