#!/usr/bin/env bash
# Where one caller's write to the leader spends its time, from the meters the nodes already have: the
# client's latency, the leader's own time for the call (kvaspire.operation.duration: from the request's
# arrival to its answer), DotNext's replication round (broadcast-time: from sending the entries to every
# follower until a quorum answered, the followers' fsync of log.X included), each follower call
# (response-time, on the leader) and a follower's own time for one (ASP.NET Core's
# http.server.request.duration of its HTTP/1.1 requests, which are Raft's: its log.X fsync included).
# What the leader's time has beyond the round is its own path (admission,
# the proposer, the commit after its own fsync, the apply loop, F3, the answer); what the client sees
# beyond the leader's time is gRPC on both ends and the loopback network. One position × 3 replicas on
# loopback, 10 s of writes at one caller, after an unmeasured warm-up; medians (p50) over the run.
#
#   bench/write-path.sh
#
# Needs curl, python3 and dotnet-counters (dotnet tool install -g dotnet-counters). Runs in a temporary
# directory, stopped and removed at the end (bench/group.sh).
set -euo pipefail
export PATH="$PATH:$HOME/.dotnet/tools"
source "$(dirname "$0")/group.sh"
start_group
find_member_pids
load=(--node "$leader" --workload write --clients 1 --keys 2000 --value-size 256)
dotnet "$bench_dll" "${load[@]}" --duration 4 --warmup 2 bench >/dev/null 2>&1
meters="KvAspire.Node,DotNext.Net.Cluster.Consensus.Raft.Server,DotNext.Net.Cluster.Consensus.Raft.Client"
dotnet-counters collect -p "$leader_pid" --counters "$meters" --format csv -o "$work/leader.csv" --duration 00:00:12 >/dev/null 2>&1 &
dotnet-counters collect -p "$follower_pid" --counters Microsoft.AspNetCore.Hosting --format csv -o "$work/follower.csv" --duration 00:00:12 >/dev/null 2>&1 &
sleep 1
dotnet "$bench_dll" "${load[@]}" --json --duration 10 --warmup 0 --skip-preload bench 2>/dev/null > "$work/bench.json"
wait
python3 - "$work" <<'PY'
import csv, json, statistics, sys
work = sys.argv[1]
bench = json.load(open(f"{work}/bench.json"))
seen = {}
for row in csv.reader(open(f"{work}/leader.csv")):
    if len(row) < 5:
        continue
    name, value = row[2], row[4]
    if "Percentile=50" not in name:
        continue
    for key, label in (("kvaspire.operation.duration", "leader"), ("broadcast-time", "round"), ("response-time", "follower call")):
        if key in name and (label != "leader" or "operation=update" in name or "operation=create" in name):
            try:
                seen.setdefault(label, []).append(float(value))
            except ValueError:
                pass
for row in csv.reader(open(f"{work}/follower.csv")):
    if len(row) >= 5 and "http.server.request.duration" in row[2] and "Percentile=50" in row[2] and "network.protocol.version=1.1" in row[2]:
        try:
            seen.setdefault("follower's own time", []).append(1000 * float(row[4]))
        except ValueError:
            pass
p50 = {label: statistics.median(values) for label, values in seen.items() if values}
print(f"one caller's write to the leader, {bench['succeeded']} writes in 10 s, p50 in ms:")
print(f"  client sees            {bench['p50Ms']:.3f}")
for label in ("leader", "round", "follower call", "follower's own time"):
    if label in p50:
        print(f"  {label:<22} {p50[label]:.3f}")
if {"leader", "round"} <= p50.keys():
    print(f"  leader beyond the round {p50['leader'] - p50['round']:.3f}  (its own path: admission, proposer, commit, apply loop, F3, answer)")
    print(f"  client beyond the leader {bench['p50Ms'] - p50['leader']:.3f}  (gRPC at both ends and loopback)")
if {"follower call", "follower's own time"} <= p50.keys():
    beyond = p50["follower call"] - p50["follower's own time"]
    print(f"  follower call beyond the follower {beyond:.3f}  (DotNext's HTTP client and Kestrel's HTTP/1.1 at both ends, loopback)")
PY
echo "($(nproc) cores, $(date -u +%Y-%m-%d))"
