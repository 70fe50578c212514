#!/usr/bin/env bash
# The cost of one ring hop: two positions × one replica on loopback; the same single-client loads sent
# through one node by a client that keeps to it (--spread: half the keys belong to the other position,
# one hop each) and by one that goes to each key's owner (the layout learned from the cluster: no hop).
# hop cost = 2 × (mean latency through one node − mean latency straight to the owner).
#
#   bench/hop.sh [seconds per run = 8]
#
# Needs curl and python3. Runs in a temporary directory, stopped and removed at the end (bench/group.sh).
set -euo pipefail
seconds=${1:-8}
topology_json='{ "Cluster": { "IdBits": 64, "Replicas": 1, "DataDirectory": "data", "SnapshotIntervalSeconds": 30,
  "Nodes": [ { "Name": "p0", "Position": 0, "Host": "127.0.0.1", "GrpcPort": 7600, "RaftPort": 7700 },
             { "Name": "p1", "Position": 1, "Host": "127.0.0.1", "GrpcPort": 7601, "RaftPort": 7701 } ] } }'
source "$(dirname "$0")/group.sh"
start_group

run() { # $1 workload, $2.. targets; prints "mean p50 p99"
  local workload=$1
  shift
  dotnet "$bench_dll" "$@" --json --workload "$workload" --clients 1 --keys 2000 --value-size 256 \
      --duration "$seconds" --warmup 2 bench 2>/dev/null |
    python3 -c "import json,sys; d=json.load(sys.stdin); print(round(d['meanMs'],3), round(d['p50Ms'],3), round(d['p99Ms'],3))"
}
echo "warming up (unmeasured)…"
run A --spread --node 127.0.0.1:7600 >/dev/null
run A --cluster "$topology" >/dev/null

printf "\n%-8s | %-26s | %-26s | %s\n" workload "owner direct: mean p50 p99" "half via p0: mean p50 p99" "hop (ms)"
for workload in read write; do
  read -r d_mean d_p50 d_p99 <<<"$(run "$workload" --cluster "$topology")"
  read -r h_mean h_p50 h_p99 <<<"$(run "$workload" --spread --node 127.0.0.1:7600)"
  printf "%-8s | %8s %8s %8s | %8s %8s %8s | %s\n" "$workload" "$d_mean" "$d_p50" "$d_p99" "$h_mean" "$h_p50" "$h_p99" \
    "$(python3 -c "print(f'{2 * ($h_mean - $d_mean):.3f}')")"
done
echo "($(nproc) cores, $(date -u +%Y-%m-%d), $seconds s per run, 2000 keys × 256 B, 1 client, latencies in ms)"
