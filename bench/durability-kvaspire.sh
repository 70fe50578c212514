#!/usr/bin/env bash
# KvAspire alone: the disk's floor, then one caller's writes to the leader while every member's durable
# disk operations are counted (bench/durability.sh); first the writes' rate and latency (which writes the keys).
#
#   bench/durability-kvaspire.sh [seconds = 5]
#
# The quick loop for storage work; bench/compare-etcd.sh runs the same beside etcd.
set -euo pipefail
seconds=${1:-5}
source "$(dirname "$0")/group.sh"
source "$(dirname "$0")/durability.sh"
start_group
mkdir -p "$work/clients"
echo "disk floor (append 256 B + fdatasync, 2,000 times), p50 p99 ms: $(disk_floor "$work")"
(cd "$work/clients" && dotnet "$bench_dll" --cluster "$topology" --json --workload write --clients 1 --keys 10000 \
  --duration "$seconds" --warmup 1 bench) | python3 -c "
import json, sys
r = json.load(sys.stdin)
print(f\"one caller, writes to the leader: {r['opsPerSecond']:.0f}/s, p50 {r['p50Ms']:.2f} ms, p99 {r['p99Ms']:.2f} ms\")"
members=(); for i in "${!nodes[@]}"; do read -r name _ <<<"${nodes[$i]}"; members+=("$name=${pids[$i]}"); done
durable_ops_per_write KvAspire "${members[@]}" -- env -C "$work/clients" dotnet "$bench_dll" --cluster "$topology" --json \
  --workload write --clients 1 --keys 10000 --duration "$seconds" --warmup 0 --skip-preload --key-prefix bench- bench
