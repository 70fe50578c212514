#!/usr/bin/env bash
# One ring position × 3 replicas (one Raft group) on loopback: write and linearizable-read ops/s and
# latency at 1 and 64 clients, 256 B values, sent to the leader and spread over all three replicas
# (a follower hands each request to the leader).
#
#   bench/replicated.sh [seconds per run = 8]
#
# Needs curl and python3. Runs in a temporary directory, stopped and removed at the end (bench/group.sh).
set -euo pipefail
seconds=${1:-8}
source "$(dirname "$0")/group.sh"
start_group

run() { # $1 workload, $2 clients, $3.. targets; prints "ops p50 p99"
  local workload=$1 clients=$2
  shift 2
  dotnet "$bench_dll" "$@" --json --workload "$workload" --clients "$clients" --keys 10000 --value-size 256 \
      --duration "$seconds" --warmup 2 bench 2>/dev/null |
    python3 -c "import json,sys; d=json.load(sys.stdin); print(round(d['opsPerSecond']), round(d['p50Ms'],2), round(d['p99Ms'],2))"
}

# A first, unmeasured pass: the .NET nodes and client compile their hot paths as they run.
echo "warming up (unmeasured)…"
run A 64 --cluster "$topology" >/dev/null

printf "\n%-8s %-8s | %10s %8s %8s | %10s %8s %8s\n" workload clients "leader/s" p50 p99 "spread/s" p50 p99
for spec in "write 1" "write 64" "read 1" "read 64"; do
  read -r workload clients <<<"$spec"
  read -r l_ops l_p50 l_p99 <<<"$(run "$workload" "$clients" --node "$leader")"
  read -r s_ops s_p50 s_p99 <<<"$(run "$workload" "$clients" --spread --cluster "$topology")"
  printf "%-8s %-8s | %10s %8s %8s | %10s %8s %8s\n" "$workload" "$clients" "$l_ops" "$l_p50" "$l_p99" "$s_ops" "$s_p50" "$s_p99"
done
echo "($(nproc) cores, $(date +%F), $seconds s per run, 10000 keys × 256 B, latencies in ms)"
