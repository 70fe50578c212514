#!/usr/bin/env bash
# Watches under writes, on one ring position × 3 replicas on loopback: 64 clients update 10,000 keys of
# 256 B for a run with no watch, then with 1 and with 4 watches of every key (each on a client of its
# own, through the client library), round after round so that the machine's drift touches each alike.
# Prints writes/s and their p50, the changes the watches received a second (over all watches), and the
# lag from a write's call to its event at p50 and p99 (ms): the write's own latency, then the delivery.
#
#   bench/watch.sh [seconds per run = 8] [rounds = 3]
#
# Needs python3. Runs in a temporary directory, stopped and removed at the end (bench/group.sh).
set -euo pipefail
seconds=${1:-8}
rounds=${2:-3}
source "$(dirname "$0")/group.sh"
start_group

run() { # $1 watchers; prints "writes/s write-p50 events/s lag-p50 lag-p99"
  dotnet "$bench_dll" --cluster "$topology" --json --workload write --clients 64 --keys 10000 --value-size 256 \
      --duration "$seconds" --warmup 2 --watchers "$1" bench 2>/dev/null |
    python3 -c "import json,sys; d=json.load(sys.stdin); f=lambda k: '-' if d.get(k) is None else round(d[k], 2); print(round(d['opsPerSecond']), round(d['p50Ms'], 2), f('watchEventsPerSecond'), f('watchLagP50Ms'), f('watchLagP99Ms'))"
}

echo "warming up (unmeasured)…"
run 1 >/dev/null

printf "\n%-6s %-9s | %10s %10s | %12s %10s %10s\n" round watchers "writes/s" "write p50" "events/s" "lag p50" "lag p99"
for round in $(seq 1 "$rounds"); do
  for watchers in 0 1 4; do
    read -r writes write_p50 events p50 p99 <<<"$(run "$watchers")"
    printf "%-6s %-9s | %10s %10s | %12s %10s %10s\n" "$round" "$watchers" "$writes" "$write_p50" "$events" "$p50" "$p99"
  done
done
echo "($(nproc) cores, $(date +%F), $seconds s per run, 10000 keys × 256 B, 64 writers, latencies in ms)"
