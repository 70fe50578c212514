#!/usr/bin/env bash
# Side by side: the same YCSB-style loads against KvAspire and against a 3-member etcd cluster, both on
# loopback on this machine, through `KvAspire.Client bench` (--target kvaspire | etcd). Prints one line
# per run and the ratios.
#
#   bench/compare-etcd.sh [seconds per run = 10]
#
# KvAspire runs the positions × replicas of KVASPIRE_TOPOLOGY (default: one position × 3 replicas, one
# Raft group, like the 3-member etcd cluster).
# Needs etcd (Debian: etcd-server), curl and python3. Everything runs in a temporary directory and is
# stopped and removed at the end.
set -euo pipefail
seconds=${1:-10}
keys=${KEYS:-10000}
command -v etcd >/dev/null || { echo "etcd is not installed (Debian: apt-get install etcd-server)" >&2; exit 1; }
source "$(dirname "$0")/group.sh"
start_group

echo "starting etcd (3 members)"
members="m1=http://127.0.0.1:2380,m2=http://127.0.0.1:22380,m3=http://127.0.0.1:32380"
for m in 1 2 3; do
  base=$([ $m = 1 ] && echo 2 || ([ $m = 2 ] && echo 22 || echo 32))
  etcd --name m$m --data-dir "$work/etcd-m$m" --log-level error \
    --listen-client-urls http://127.0.0.1:${base}379 --advertise-client-urls http://127.0.0.1:${base}379 \
    --listen-peer-urls http://127.0.0.1:${base}380 --initial-advertise-peer-urls http://127.0.0.1:${base}380 \
    --initial-cluster "$members" --initial-cluster-state new > "$work/etcd-m$m.log" 2>&1 &
  pids+=($!)
  disown
done
until ETCDCTL_API=3 etcdctl --endpoints 127.0.0.1:2379 endpoint health >/dev/null 2>&1; do sleep 0.1; done

kv_targets=(--cluster "$topology")
etcd_targets=(--cluster "$topology" --target etcd --endpoints 127.0.0.1:2379 --endpoints 127.0.0.1:22379 --endpoints 127.0.0.1:32379)
run() { # $1 target name, $2 workload, $3 clients; prints "ops p50 p99"
  local targets
  if [ "$1" = kvaspire ]; then targets=("${kv_targets[@]}"); else targets=("${etcd_targets[@]}"); fi
  dotnet "$client_dll" "${targets[@]}" --json --workload "$2" --clients "$3" --keys "$keys" \
      --duration "$seconds" --warmup 2 --key-prefix "bench-$1-" bench 2>/dev/null |
    python3 -c "import json,sys; d=json.load(sys.stdin); print(round(d['opsPerSecond']), round(d['p50Ms'],2), round(d['p99Ms'],2))"
}

# A first, unmeasured pass for each side: the .NET nodes and client compile their hot paths as they run.
echo "warming up both sides (unmeasured)…"
run kvaspire A 64 >/dev/null
run etcd A 64 >/dev/null

printf "\n%-10s %-8s | %10s %8s %8s | %10s %8s %8s | %7s\n" workload clients "KvAspire/s" p50 p99 "etcd/s" p50 p99 ratio
for spec in "write 64" "read 64" "A 64" "B 64" "write 1" "read 1"; do
  read -r workload clients <<<"$spec"
  read -r k_ops k_p50 k_p99 <<<"$(run kvaspire "$workload" "$clients")"
  read -r e_ops e_p50 e_p99 <<<"$(run etcd "$workload" "$clients")"
  printf "%-10s %-8s | %10s %8s %8s | %10s %8s %8s | %7s\n" "$workload" "$clients" "$k_ops" "$k_p50" "$k_p99" "$e_ops" "$e_p50" "$e_p99" \
    "$(python3 -c "print(f'{$k_ops/$e_ops:.2f}x')")"
done
echo "($(nproc) cores, $(date -u +%Y-%m-%d), ${seconds} s per run, $keys keys × 256 B, latencies in ms)"
