#!/usr/bin/env bash
# One ring position × 3 replicas (one Raft group) on loopback: write and linearizable-read ops/s and
# latency at 1 and 64 clients, 256 B values, sent to the leader and spread over all three replicas
# (a follower hands each request to the leader).
#
#   bench/replicated.sh [seconds per run = 8]
#
# Needs curl and python3. Runs in a temporary directory, stopped and removed at the end.
set -euo pipefail
seconds=${1:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/kvaspire-replicated.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "building (Release)…"
dotnet build -c Release -v q --nologo "$root/KvAspire.Node" >/dev/null
dotnet build -c Release -v q --nologo "$root/KvAspire.Client" >/dev/null
node_dll="$root/KvAspire.Node/bin/Release/net10.0/KvAspire.Node.dll"
client_dll="$root/KvAspire.Client/bin/Release/net10.0/KvAspire.Client.dll"

cat > "$work/cluster.json" <<JSON
{ "Cluster": { "IdBits": 64, "Replicas": 3, "DataDirectory": "data", "SnapshotIntervalSeconds": 30,
  "Nodes": [ { "Name": "p0r0", "Position": 0, "Host": "127.0.0.1", "GrpcPort": 7600, "RaftPort": 7700 },
             { "Name": "p0r1", "Position": 0, "Host": "127.0.0.1", "GrpcPort": 7601, "RaftPort": 7701 },
             { "Name": "p0r2", "Position": 0, "Host": "127.0.0.1", "GrpcPort": 7602, "RaftPort": 7702 } ] } }
JSON
echo "starting p0r0, p0r1, p0r2"
for r in 0 1 2; do
  dotnet "$node_dll" --cluster "$work/cluster.json" --node "p0r$r" > "$work/p0r$r.log" 2>&1 &
  pids+=($!)
  disown
done
leader=""
until [ -n "$leader" ]; do
  sleep 0.2
  for r in 0 1 2; do
    curl -sf "http://127.0.0.1:770$r/status" | grep -q '"role":"leader"' && leader="127.0.0.1:760$r"
  done
done
echo "leader: $leader"

run() { # $1 workload, $2 clients, $3.. targets; prints "ops p50 p99"
  local workload=$1 clients=$2
  shift 2
  dotnet "$client_dll" "$@" --json --workload "$workload" --clients "$clients" --keys 10000 --value-size 256 \
      --duration "$seconds" --warmup 2 bench 2>/dev/null |
    python3 -c "import json,sys; d=json.load(sys.stdin); print(round(d['opsPerSecond']), round(d['p50Ms'],2), round(d['p99Ms'],2))"
}

# A first, unmeasured pass: the .NET nodes and client compile their hot paths as they run.
echo "warming up (unmeasured)…"
run A 64 --cluster "$work/cluster.json" >/dev/null

printf "\n%-8s %-8s | %10s %8s %8s | %10s %8s %8s\n" workload clients "leader/s" p50 p99 "spread/s" p50 p99
for spec in "write 1" "write 64" "read 1" "read 64"; do
  read -r workload clients <<<"$spec"
  read -r l_ops l_p50 l_p99 <<<"$(run "$workload" "$clients" --node "$leader")"
  read -r s_ops s_p50 s_p99 <<<"$(run "$workload" "$clients" --cluster "$work/cluster.json")"
  printf "%-8s %-8s | %10s %8s %8s | %10s %8s %8s\n" "$workload" "$clients" "$l_ops" "$l_p50" "$l_p99" "$s_ops" "$s_p50" "$s_p99"
done
echo "($(nproc) cores, $(date +%F), $seconds s per run, 10000 keys × 256 B, latencies in ms)"
