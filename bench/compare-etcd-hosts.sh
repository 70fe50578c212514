#!/usr/bin/env bash
# Degraded links, side by side with etcd: a KvAspire position (3 replicas) and a 3-member etcd on the same
# three namespaced hosts (bench/hosts.sh), random loss between the hosts, the clients' links clean
# (the load runs in kvsw). Writes from 16 clients, KvAspire and etcd alternating run by run, several
# rounds; prints each run and the medians.
#
#   bench/compare-etcd-hosts.sh [seconds per run = 8] [rounds = 3] [loss percentages = "0 5 10"]
#
# KVASPIRE_ELECTION_MS sets KvAspire's ElectionTimeoutMs (default: the topology default).
# Needs root, ip, nft, etcd (Debian: etcd-server), curl, python3. Removes everything at the end.
set -euo pipefail
seconds=${1:-8}
rounds=${2:-3}
losses=${3:-0 5 10}
clients=${CLIENTS:-16}
command -v etcd >/dev/null || { echo "etcd is not installed (Debian: apt-get install etcd-server)" >&2; exit 1; }
here=$(dirname "$0")
bash "$here/hosts.sh" up 3
on_hosts=1
election=${KVASPIRE_ELECTION_MS:+\"ElectionTimeoutMs\": $KVASPIRE_ELECTION_MS,}
topology_json=$(cat <<JSON
{ "Cluster": { "IdBits": 64, "Replicas": 3, "DataDirectory": "data", "SnapshotIntervalSeconds": 30, $election
  "Nodes": [ { "Name": "p0r0", "Position": 0, "Host": "198.18.1.10", "ListenAddress": "0.0.0.0", "GrpcPort": 7000, "RaftPort": 7100 },
             { "Name": "p0r1", "Position": 0, "Host": "198.18.1.11", "ListenAddress": "0.0.0.0", "GrpcPort": 7000, "RaftPort": 7100 },
             { "Name": "p0r2", "Position": 0, "Host": "198.18.1.12", "ListenAddress": "0.0.0.0", "GrpcPort": 7000, "RaftPort": 7100 } ] } }
JSON
)
source "$here/group.sh"
trap 'cleanup; bash "$here/hosts.sh" down' EXIT
start_group

echo "starting etcd (3 members, on the same hosts)"
members="m0=http://198.18.1.10:2380,m1=http://198.18.1.11:2380,m2=http://198.18.1.12:2380"
for m in 0 1 2; do
  ip netns exec "kvh$m" etcd --name "m$m" --data-dir "$work/etcd-m$m" --log-level error \
    --listen-client-urls "http://198.18.1.1$m:2379" --advertise-client-urls "http://198.18.1.1$m:2379" \
    --listen-peer-urls "http://198.18.1.1$m:2380" --initial-advertise-peer-urls "http://198.18.1.1$m:2380" \
    --initial-cluster "$members" --initial-cluster-state new > "$work/etcd-m$m.log" 2>&1 &
  pids+=($!)
  disown
done
until ip netns exec kvsw env ETCDCTL_API=3 etcdctl --endpoints 198.18.1.10:2379 endpoint health >/dev/null 2>&1; do sleep 0.1; done

run() { # $1 kvaspire|etcd; prints "ops p50 p99"
  local targets=(--cluster "$topology")
  [ "$1" = etcd ] && targets+=(--target etcd --endpoints 198.18.1.10:2379 --endpoints 198.18.1.11:2379 --endpoints 198.18.1.12:2379)
  in_clients dotnet "$bench_dll" "${targets[@]}" --json --workload write --clients "$clients" --keys 10000 \
      --duration "$seconds" --warmup 1 --key-prefix "bench-$1-" bench 2>/dev/null |
    python3 -c "import json,sys; d=json.load(sys.stdin); print(round(d['opsPerSecond']), round(d['p50Ms'],2), round(d['p99Ms'],2))" \
    || echo "0 - -"
}

echo "warming up both sides (unmeasured)…"
run kvaspire >/dev/null
run etcd >/dev/null

results=$(mktemp)
printf "\n%-6s %-6s | %10s %8s %8s | %10s %8s %8s\n" loss round "KvAspire/s" p50 p99 "etcd/s" p50 p99
for loss in $losses; do
  if [ "$loss" = 0 ]; then bash "$here/hosts.sh" heal >/dev/null; else bash "$here/hosts.sh" loss "$loss" >/dev/null; fi
  for ((r = 1; r <= rounds; r++)); do
    read -r k_ops k_p50 k_p99 <<<"$(run kvaspire)"
    read -r e_ops e_p50 e_p99 <<<"$(run etcd)"
    printf "%-6s %-6s | %10s %8s %8s | %10s %8s %8s\n" "$loss%" "$r" "$k_ops" "$k_p50" "$k_p99" "$e_ops" "$e_p50" "$e_p99"
    echo "$loss $k_ops $e_ops" >> "$results"
  done
done
bash "$here/hosts.sh" heal >/dev/null
echo
python3 - "$results" <<'PY'
import statistics, sys, collections
runs = collections.defaultdict(lambda: ([], []))
for line in open(sys.argv[1]):
    loss, k, e = line.split()
    runs[loss][0].append(float(k)); runs[loss][1].append(float(e))
for loss, (k, e) in runs.items():
    km, em = statistics.median(k), statistics.median(e)
    print(f"loss {loss:>3}%: median KvAspire {km:,.0f} writes/s, etcd {em:,.0f} writes/s, ratio {km / em if em else float('inf'):.2f}x")
PY
echo "($(nproc) cores, $(date -u +%Y-%m-%d), ${seconds} s per run, $clients writers, 256 B values)"
