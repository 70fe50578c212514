#!/usr/bin/env bash
# Recovery benchmark: fill one node with KEYS keys of VALUE_SIZE bytes, let it write a
# snapshot of all of them, kill -9 it, and time the restart until it serves again. Then compare write
# latency with no snapshot running against writes while snapshots run back to back.
#
#   bench/recovery.sh [keys=1000000] [value-size=256]
#
# Release builds, one node on 127.0.0.1:7500 (gRPC) and :7501 (health), data in a temporary directory
# that is removed at the end. Needs curl.
set -euo pipefail
keys=${1:-1000000}
value_size=${2:-256}
extra_keys=${EXTRA_KEYS:-200000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/kvaspire-recovery.XXXXXX)
node_pid=""

cleanup() {
  [ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if curl -sf -o /dev/null http://127.0.0.1:7501/health; then
  echo "something already serves 127.0.0.1:7501; stop it first" >&2
  exit 1
fi

echo "building (Release)…"
dotnet build -c Release -v q --nologo "$root/KvAspire.Node" >/dev/null
dotnet build -c Release -v q --nologo "$root/KvAspire.Bench" >/dev/null
node_dll="$root/KvAspire.Node/bin/Release/net10.0/KvAspire.Node.dll"
bench_dll="$root/KvAspire.Bench/bin/Release/net10.0/KvAspire.Bench.dll"

topology() { # $1 file, $2 snapshot interval in seconds
  cat > "$1" <<JSON
{ "Cluster": { "IdBits": 64, "Replicas": 1, "DataDirectory": "data", "SnapshotIntervalSeconds": $2,
  "Nodes": [ { "Name": "p0r0", "Position": 0, "Host": "127.0.0.1", "GrpcPort": 7500, "RaftPort": 7501 } ] } }
JSON
}
topology "$work/snapshot-every-10s.json" 10
topology "$work/no-snapshots.json" 86400
topology "$work/snapshot-every-1s.json" 1

start_node() { # $1 topology; sets node_pid, and ready_s: seconds from process start to healthy
  local started; started=$(date +%s.%N)
  dotnet "$node_dll" --cluster "$1" --node p0r0 >> "$work/node.log" 2>&1 &
  node_pid=$!
  until curl -sf -o /dev/null http://127.0.0.1:7501/health; do
    kill -0 "$node_pid" 2>/dev/null || { echo "the node exited:"; tail -20 "$work/node.log"; exit 1; }
    sleep 0.01
  done
  ready_s=$(printf "%.2f" "$(echo "$(date +%s.%N) - $started" | bc)")
}
kill_node() { kill -9 "$node_pid"; wait "$node_pid" 2>/dev/null || true; node_pid=""; }
load() { # $1 count, $2 key prefix; prints the JSON report
  dotnet "$bench_dll" --node 127.0.0.1:7500 --json --clients 64 --value-size "$value_size" --key-prefix "$2" load "$1"
}
field() { python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['$2'], 2))" "$1"; }

echo "1/4 filling: $keys keys × $value_size B"
start_node "$work/snapshot-every-10s.json"
fill=$(load "$keys" "k-")
echo "    $(field "$fill" opsPerSecond) ops/s"

echo "2/4 waiting for a snapshot that holds all $keys keys"
until grep -q "Wrote snap\.[0-9]*: $keys keys" "$work/node.log"; do sleep 0.5; done
snapshot_line=$(grep "Wrote snap\.[0-9]*: $keys keys" "$work/node.log" | head -1)
snapshot_ms=$(sed -E 's/.* in ([0-9.]+) ms.*/\1/' <<<"$snapshot_line")
snapshot_bytes=$(sed -E 's/.*, ([0-9]+) bytes,.*/\1/' <<<"$snapshot_line")

echo "3/4 kill -9 and restart"
kill_node
: > "$work/node.log"
start_node "$work/snapshot-every-10s.json"
restart_s=$ready_s
recovered_ms=$(grep -o "Recovered .* in [0-9.]* ms" "$work/node.log" | sed -E 's/.* in ([0-9.]+) ms/\1/')
loaded=$(grep -o "Loaded snap\.[0-9]*: .* ms" "$work/node.log" || true)
kill_node

echo "4/4 write latency: $extra_keys creates without snapshots, then $extra_keys while snapshots run back to back"
start_node "$work/no-snapshots.json"
quiet=$(load "$extra_keys" "quiet-")
kill_node
: > "$work/node.log"
start_node "$work/snapshot-every-1s.json"
busy=$(load "$extra_keys" "busy-")
snapshots_during=$(grep -c "Wrote snap" "$work/node.log" || true)
kill_node

cat <<REPORT

KvAspire recovery benchmark — $keys keys × $value_size B, $(nproc) cores, $(date -u +%Y-%m-%d)
  snapshot of all keys:      ${snapshot_ms} ms, $((snapshot_bytes / 1048576)) MiB
  restart to serving:        ${restart_s} s (process start to /health OK; recovery itself ${recovered_ms} ms)
                             ${loaded}
  writes, no snapshot:       $(field "$quiet" opsPerSecond) ops/s, p50 $(field "$quiet" p50Ms) ms, p99 $(field "$quiet" p99Ms) ms
  writes during snapshots:   $(field "$busy" opsPerSecond) ops/s, p50 $(field "$busy" p50Ms) ms, p99 $(field "$busy" p99Ms) ms ($snapshots_during snapshots written)
REPORT
