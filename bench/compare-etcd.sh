#!/usr/bin/env bash
# Side by side: the same YCSB-style loads against KvAspire and against a 3-member etcd cluster, both on
# loopback on this machine, through `KvAspire.Bench bench` (--target kvaspire | etcd), in two ways:
#   spread  callers spread over all three members, as a client that does not know the topology sends
#           (a program generated from the proto, grpcurl, etcd's own clients): followers serve or hand on;
#   leader  callers to the leader only: KvAspire's topology-aware client (it learns each position's
#           leader from the kvaspire-leader trailer), and etcd's leader as the one endpoint.
# Then the disk's floor for one durable write and each member's sync calls per write with one caller
# (bench/durability.sh), a cold start (the KvAspire nodes restarted under a warmed client: throughput over
# the first 10 s after they report their leader, against the warmed figure) and the cost of a ring hop
# (bench/hop.sh).
# Prints one line per run with the ratios.
#
#   bench/compare-etcd.sh [seconds per run = 10]
#
# KvAspire runs the positions × replicas of KVASPIRE_TOPOLOGY (default: one position × 3 replicas, one
# Raft group, like the 3-member etcd cluster).
# Needs etcd (Debian: etcd-server, etcd-client), strace, curl and python3. Everything runs in a temporary directory
# and is stopped and removed at the end.
set -euo pipefail
seconds=${1:-10}
keys=${KEYS:-10000}
command -v etcd >/dev/null || { echo "etcd is not installed (Debian: apt-get install etcd-server etcd-client)" >&2; exit 1; }
source "$(dirname "$0")/group.sh"
source "$(dirname "$0")/durability.sh"
start_group
kv_pids=("${pids[@]}")
etcd_pids=()

echo "starting etcd (3 members)"
members="m1=http://127.0.0.1:2380,m2=http://127.0.0.1:22380,m3=http://127.0.0.1:32380"
etcd_endpoints=(127.0.0.1:2379 127.0.0.1:22379 127.0.0.1:32379)
for m in 1 2 3; do
  base=$([ $m = 1 ] && echo 2 || ([ $m = 2 ] && echo 22 || echo 32))
  etcd --name m$m --data-dir "$work/etcd-m$m" --log-level error \
    --listen-client-urls http://127.0.0.1:${base}379 --advertise-client-urls http://127.0.0.1:${base}379 \
    --listen-peer-urls http://127.0.0.1:${base}380 --initial-advertise-peer-urls http://127.0.0.1:${base}380 \
    --initial-cluster "$members" --initial-cluster-state new > "$work/etcd-m$m.log" 2>&1 &
  etcd_pids+=($!)
  disown
done
pids+=("${etcd_pids[@]}")
until ETCDCTL_API=3 etcdctl --endpoints 127.0.0.1:2379 endpoint health >/dev/null 2>&1; do sleep 0.1; done
etcd_leader=$(ETCDCTL_API=3 etcdctl --endpoints "$(IFS=,; echo "${etcd_endpoints[*]}")" endpoint status -w json |
  python3 -c "import json,sys; print(next(s['Endpoint'] for s in json.load(sys.stdin) if s['Status']['header']['member_id'] == s['Status']['leader']))")
echo "etcd leader: $etcd_leader"

kv_spread=(--spread); for node in "${nodes[@]}"; do read -r _ host grpc _ _ <<<"$node"; kv_spread+=(--node "$host:$grpc"); done
etcd_spread=(); for e in "${etcd_endpoints[@]}"; do etcd_spread+=(--endpoints "$e"); done

# $1 system and way (kvaspire-spread | kvaspire-leader | etcd-spread | etcd-leader), $2 workload, $3 callers,
# then extra bench options; prints "ops p50 p99". Runs where no cluster.json is (the client would read
# it); kvaspire-spread keeps each caller to its node (--spread), kvaspire-leader sends each call to its
# key's leader once the client has learned the ring from the cluster.
mkdir -p "$work/clients"
run() {
  local way=$1 workload=$2 clients=$3 targets
  shift 3
  case "$way" in
    kvaspire-spread) targets=("${kv_spread[@]}") ;;
    kvaspire-leader) targets=(--cluster "$topology") ;;
    etcd-spread) targets=(--cluster "$topology" --target etcd "${etcd_spread[@]}") ;;
    etcd-leader) targets=(--cluster "$topology" --target etcd --endpoints "$etcd_leader") ;;
  esac
  (cd "$work/clients" && dotnet "$bench_dll" "${targets[@]}" --json --workload "$workload" --clients "$clients" --keys "$keys" \
      --duration "$seconds" --key-prefix "bench-${way%%-*}-" "$@" bench 2>/dev/null) |
    report "$way $workload $clients"
}
# Reads a bench --json report on stdin; prints "ops p50 p99", or fails naming $1.
report() {
  python3 -c "import json,sys; d=json.load(sys.stdin); print(round(d['opsPerSecond']), round(d['p50Ms'],2), round(d['p99Ms'],2)) if 'opsPerSecond' in d else sys.exit(f'$1: {d}')"
}
ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }

# A first, unmeasured pass for each side: the .NET nodes and client compile their hot paths as they run.
echo "warming up both sides (unmeasured)…"
run kvaspire-spread A 64 --warmup 2 >/dev/null
run etcd-spread A 64 --warmup 2 >/dev/null

declare -A warm
printf "\n%-7s %-6s %-7s | %10s %7s %7s | %10s %7s %7s | %7s\n" way load callers "KvAspire/s" p50 p99 "etcd/s" p50 p99 ratio
for spec in "spread write 64" "spread read 64" "leader write 64" "leader read 64" \
            "spread write 1" "spread read 1" "leader write 1" "leader read 1"; do
  read -r way workload clients <<<"$spec"
  read -r k_ops k_p50 k_p99 <<<"$(run "kvaspire-$way" "$workload" "$clients" --warmup 2)"
  read -r e_ops e_p50 e_p99 <<<"$(run "etcd-$way" "$workload" "$clients" --warmup 2)"
  warm[$way-$workload-$clients]=$k_ops
  printf "%-7s %-6s %-7s | %10s %7s %7s | %10s %7s %7s | %7s\n" "$way" "$workload" "$clients" "$k_ops" "$k_p50" "$k_p99" \
    "$e_ops" "$e_p50" "$e_p99" "$(ratio "$k_ops" "$e_ops")"
done

# What durability costs, in this run: the disk's floor for one durable write where both keep their data,
# and the sync calls each member makes per acknowledged write with one caller at the leader.
echo
echo "disk floor (append 256 B + fdatasync, 2,000 times), p50 p99 ms: $(disk_floor "$work")"
kv_members=(); for i in "${!nodes[@]}"; do read -r name _ <<<"${nodes[$i]}"; kv_members+=("$name=${kv_pids[$i]}"); done
etcd_members=(); for i in "${!etcd_pids[@]}"; do etcd_members+=("m$((i + 1))=${etcd_pids[$i]}"); done
durable_ops_per_write KvAspire "${kv_members[@]}" -- env -C "$work/clients" dotnet "$bench_dll" --cluster "$topology" --json \
  --workload write --clients 1 --keys "$keys" --duration "$seconds" --warmup 0 --skip-preload --key-prefix bench-kvaspire- bench
durable_ops_per_write etcd "${etcd_members[@]}" -- env -C "$work/clients" dotnet "$bench_dll" --cluster "$topology" --target etcd \
  --endpoints "$etcd_leader" --json --workload write --clients 1 --keys "$keys" --duration "$seconds" --warmup 0 --skip-preload \
  --key-prefix bench-etcd- bench

# Cold start: a client warms up against the running nodes and waits; the nodes are stopped and started
# again on their data; once each reports its leader (as start_group waits) the warmed client measures the
# first 10 s (the target's window, whatever the run length), without preload. A client that is itself new
# also pays its own compilation (docs/benchmarks.md, "Cold start").
cold_seconds=10
printf "\n%-26s | %10s %7s %7s | %10s | %7s\n" "cold start, first ${cold_seconds} s" "KvAspire/s" p50 p99 "warmed/s" "of warm"
for spec in "spread write 64" "spread read 64"; do
  read -r way workload clients <<<"$spec"
  rm -f "$work/measure"; mkfifo "$work/measure"
  (cd "$work/clients" && dotnet "$bench_dll" "${kv_spread[@]}" --json --workload "$workload" --clients "$clients" --keys "$keys" \
      --duration "$cold_seconds" --warmup 3 --skip-preload --wait-to-measure --key-prefix bench-kvaspire- bench \
      < "$work/measure" > "$work/cold.json" 2> "$work/cold.progress") &
  cold_client=$!
  exec 3>"$work/measure"
  until grep -q 'waiting for the signal' "$work/cold.progress"; do kill -0 "$cold_client" || exit 1; sleep 0.1; done
  for pid in "${kv_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${kv_pids[@]}"; do for _ in {1..100}; do kill -0 "$pid" 2>/dev/null && sleep 0.1; done; done
  pids=("${etcd_pids[@]}")
  start_group >/dev/null
  kv_pids=("${pids[@]:${#etcd_pids[@]}}")
  echo >&3
  exec 3>&-
  wait "$cold_client" || true
  read -r c_ops c_p50 c_p99 <<<"$(report "cold $workload" < "$work/cold.json")"
  printf "%-26s | %10s %7s %7s | %10s | %7s\n" "$way $workload $clients" "$c_ops" "$c_p50" "$c_p99" "${warm[$way-$workload-$clients]}" \
    "$(python3 -c "print(f'{100 * $c_ops / ${warm[$way-$workload-$clients]}:.0f}%')")"
done
echo "($(nproc) cores, $(date -u +%Y-%m-%d), ${seconds} s per run, $keys keys × 256 B, latencies in ms)"

echo
echo "the cost of one ring hop (bench/hop.sh):"
cleanup
trap - EXIT
bash "$root/bench/hop.sh" "$seconds" | sed -n '/^workload/,$p'
