#!/usr/bin/env bash
# Thread-pool work items per write at one caller, on the leader and on a follower (which replicates it) of one position × 3
# replicas on loopback: how many times a write is handed from one task to another (docs/architecture.md,
# "Counted"). Counted with dotnet-counters (System.Runtime, dotnet.thread_pool.work_item.count) over a 10 s
# write run sent to the leader, after an unmeasured warm-up.
#
#   bench/workitems.sh
#
# Needs curl, python3 and dotnet-counters (dotnet tool install -g dotnet-counters). Runs in a temporary
# directory, stopped and removed at the end (bench/group.sh).
set -euo pipefail
export PATH="$PATH:$HOME/.dotnet/tools"
source "$(dirname "$0")/group.sh"
start_group
find_member_pids
echo "leader $leader pid $leader_pid, a follower pid $follower_pid"
dotnet "$bench_dll" --node "$leader" --workload write --clients 1 --keys 2000 --value-size 256 --duration 4 --warmup 2 bench >/dev/null 2>&1
for pid in $leader_pid $follower_pid; do
  dotnet-counters collect -p $pid --counters System.Runtime --format csv -o "$work/c$pid.csv" --duration 00:00:12 >/dev/null 2>&1 &
done
sleep 1
dotnet "$bench_dll" --node "$leader" --json --workload write --clients 1 --keys 2000 --value-size 256 --duration 10 --warmup 0 --skip-preload bench 2>/dev/null > "$work/bench.json"
wait
python3 - "$work" $leader_pid $follower_pid <<'PY'
import csv,json,sys
work,lp,fp=sys.argv[1:4]
ops=json.load(open(f"{work}/bench.json"))["succeeded"]
for name,pid in (("leader",lp),("follower",fp)):
    total=0.0
    for row in csv.reader(open(f"{work}/c{pid}.csv")):
        if len(row)>=5 and "work_item.count" in row[2]:
            total+=float(row[4])
    print(f"{name}: {total:.0f} work items / {ops} writes = {total/ops:.1f} a write")
PY
