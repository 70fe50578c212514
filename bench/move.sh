#!/usr/bin/env bash
# A boundary move under load: 2 positions × 3 replicas on loopback, <keys> keys of 256 B loaded (about
# half on each position). Position 1's ring id then moves up to just below position 0's (taking nearly
# every key of position 0), and back down the next round (giving them back): each move timed by the
# console's `ring move`. Beside it, the same client load (workload A, 16 clients, 10,000 other keys of
# 256 B, about half of them in the moving range) runs for <seconds> seconds with a move started 2 s into
# its measurement, and without one, alternated round by round; medians printed.
#
#   bench/move.sh [rounds = 3] [keys = 200000] [seconds = 20]
#
# Needs curl and python3. Runs in a temporary directory, stopped and removed at the end (bench/group.sh).
set -euo pipefail

rounds=${1:-3}
keys=${2:-200000}
seconds=${3:-20}
topology_json=$(python3 -c '
import json
nodes = [{"Name": f"p{p}r{r}", "Position": p, "Host": "127.0.0.1", "GrpcPort": 7600 + 3 * p + r, "RaftPort": 7700 + 3 * p + r}
         for p in range(2) for r in range(3)]
print(json.dumps({"Cluster": {"IdBits": 64, "Replicas": 3, "DataDirectory": "data", "SnapshotIntervalSeconds": 30, "Nodes": nodes}}))')
source "$(dirname "$0")/group.sh"
dotnet build -c Release -v q --nologo "$root/KvAspire.Client" >/dev/null
client_dll="$root/KvAspire.Client/bin/Release/net10.0/KvAspire.Client.dll"
start_group

echo "loading $keys keys of 256 B…"
dotnet "$bench_dll" --cluster "$topology" --clients 64 --value-size 256 --key-prefix move- load "$keys" >/dev/null

load() { # prints ops/s of workload A over the measured seconds
  dotnet "$bench_dll" --cluster "$topology" --json --workload A --clients 16 --keys 10000 --value-size 256 \
      --duration "$seconds" --warmup 2 --skip-preload bench 2>"$work/load.err" |
    python3 -c "import json,sys; d=json.load(sys.stdin); print(round(d['opsPerSecond']), round(d['p50Ms'],2), round(d['p99Ms'],2))"
}
move() { # $1 ring id; prints "keys bytes seconds" of the move
  dotnet "$client_dll" --cluster "$topology" ring move 1 "$1" 2>"$work/move.err" |
    python3 -c "import re,sys; m=re.search(r'gave (\d+) keys \((\d+) bytes\) to position \d+ in ([0-9.]+) s', sys.stdin.read()); print(*m.groups())"
}
echo "preloading the client load's keys and warming up (unmeasured)…"
dotnet "$bench_dll" --cluster "$topology" --workload A --clients 16 --keys 10000 --value-size 256 --duration 5 --warmup 2 bench >/dev/null 2>&1

up=0xfffffffffffffffe
down=0x7fffffffffffffff
printf "\n%-5s | %-28s | %-28s | %s\n" round "without a move: ops/s p50 p99" "with a move: ops/s p50 p99" "the move: keys, bytes, seconds"
results=()
for round in $(seq 1 "$rounds"); do
  target=$([ $((round % 2)) = 1 ] && echo "$up" || echo "$down")
  read -r q_ops q_p50 q_p99 <<<"$(load)"
  load > "$work/with.txt" 2>&1 &
  loading=$!
  sleep 4 # the load's 2 s warm-up, then 2 s of measuring before the move starts
  read -r m_keys m_bytes m_seconds <<<"$(move "$target")"
  wait "$loading" || true
  read -r w_ops w_p50 w_p99 < "$work/with.txt"
  printf "%-5s | %10s %8s %8s | %10s %8s %8s | %s %s %s\n" "$round" "$q_ops" "$q_p50" "$q_p99" "$w_ops" "$w_p50" "$w_p99" "$m_keys" "$m_bytes" "$m_seconds"
  results+=("$q_ops $w_ops $m_keys $m_seconds")
done
printf '%s\n' "${results[@]}" | python3 -c "
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
q, w, k, s = (statistics.median(r[i] for r in rows) for i in range(4))
print(f'medians: {q:.0f} ops/s without a move, {w:.0f} with one ({w / q:.2f}x); a move of {k:.0f} keys took {s:.1f} s ({k / s:.0f} keys/s)')"
echo "($(nproc) cores, $(date -u +%Y-%m-%d), $keys keys × 256 B loaded, the client load 16 callers for $seconds s)"
