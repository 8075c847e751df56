#!/usr/bin/env bash
# Multi-objective search on the real objective: the (CV accuracy ↑,
# packed size ↓) front's hypervolume after 100 trials on digits
# (architecture, sparsity, bits, QAT), MOTPE against random search, seeds
# 1-3 (medians reported; each sweep's hypervolume logged).
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run XXX -bench MultiObjective -benchtime 1x -v ./internal/local | grep -E 'hypervolume|hv-'
