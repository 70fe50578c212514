#!/usr/bin/env bash
# Soak: steady load on a ring for a set time, to see whether any member's resources grow with the work
# it serves. Every minute it prints the minute's ops/s, p99 and errors (callers spread over every node),
# then a row per member: its role, resident memory (RSS, and the part of it that is the process's own
# rather than mapped files: anon), .NET GC heap (as the last collection left it), open files, threads and
# the size of its data directory. At the end, a verdict: flat, or what grew on
# which member.
#
#   bench/soak.sh [minutes = 30] [positions = 1] [callers = 64] [keys = 2000]
#
# A member is flat when, from the second minute on, its RSS stays within 25 % + 32 MiB of its first-minute
# figure and its open files and threads within 50 % + 16; the ring is flat when every member is and each
# leader's RSS is at most 1.3 × the largest of its followers'. WORKLOAD=read|write|A|B|C (default write)
# picks the load. Values are 256 B. Runs in a temporary directory, stopped and removed at the end
# (bench/group.sh); needs curl and python3.
set -euo pipefail
minutes=${1:-30}
positions=${2:-1}
callers=${3:-64}
keys=${4:-2000}
workload=${WORKLOAD:-write}

topology_json=$(python3 - "$positions" <<'PY'
import json, sys
positions = int(sys.argv[1])
nodes = [{"Name": f"p{p}r{r}", "Position": p, "Host": "127.0.0.1", "GrpcPort": 7600 + 10 * p + r, "RaftPort": 7700 + 10 * p + r}
         for p in range(positions) for r in range(3)]
print(json.dumps({"Cluster": {"IdBits": 64, "Replicas": 3, "DataDirectory": "data", "SnapshotIntervalSeconds": 30, "Nodes": nodes}}))
PY
)
source "$(dirname "$0")/group.sh"
start_group

echo "preloading $keys keys, then $minutes minute(s) of '$workload' from $callers callers over ${#nodes[@]} nodes"
dotnet "$bench_dll" --cluster "$topology" --json --workload "$workload" --clients "$callers" --keys "$keys" \
  --value-size 256 --duration 1 --warmup 0 bench > /dev/null

verdict=0
(SOAK_PIDS="${pids[*]}" SOAK_NODES="$(printf '%s\n' "${nodes[@]}")" python3 - "$minutes" "$callers" "$keys" "$workload" \
  "$bench_dll" "$topology" "$work" <<'PY'
import json, os, subprocess, sys, urllib.request

minutes, callers, keys = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
workload, bench_dll, topology, work = sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
pids = os.environ["SOAK_PIDS"].split()
members = []
for pid, line in zip(pids, os.environ["SOAK_NODES"].splitlines()):
    name, host, grpc, http, position = line.split()
    members.append({"name": name, "pid": pid, "status": f"http://{host}:{http}/status", "data": os.path.join(work, "data", name)})
MiB = 1024 * 1024

def proc_status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)

def file_bytes(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:  # a log or snapshot removed by rotation while we walk
        return 0

def dir_bytes(path):
    return sum(file_bytes(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)

def sample(member):
    status = json.load(urllib.request.urlopen(member["status"], timeout=5))
    return {"role": status["role"], "position": status["position"], "leader": status["leader"],
            "rss": proc_status(member["pid"], "VmRSS") * 1024, "anon": proc_status(member["pid"], "RssAnon") * 1024, "heap": status["memory"]["gcHeapBytes"],
            "files": len(os.listdir(f"/proc/{member['pid']}/fd")), "threads": proc_status(member["pid"], "Threads"),
            "data": dir_bytes(member["data"])}

history = {m["name"]: [] for m in members}
errors_total = 0
print(f"{'min':>4} {'ops/s':>8} {'p99 ms':>7} {'errors':>6} | {'member':<6} {'role':<9} {'RSS MiB':>8} {'anon MiB':>9} {'heap MiB':>9} {'files':>6} {'threads':>7} {'data MiB':>9}")
for minute in range(1, minutes + 1):
    run = subprocess.run(["dotnet", bench_dll, "--cluster", topology, "--json", "--workload", workload, "--clients", str(callers),
                          "--keys", str(keys), "--value-size", "256", "--duration", "60", "--warmup", "0", "--skip-preload", "bench"],
                         capture_output=True, text=True)
    try:
        report = json.loads(run.stdout.strip().splitlines()[-1])
        ops, p99, errors = report["opsPerSecond"], report["p99Ms"], sum(report["failures"].values())
    except (IndexError, ValueError, KeyError):
        print(f"minute {minute}: the load generator reported nothing (exit {run.returncode}): {run.stderr.strip()[-500:]}")
        sys.exit(1)
    errors_total += errors
    for i, member in enumerate(members):
        s = sample(member)
        history[member["name"]].append(s)
        head = f"{minute:>4} {ops:>8.0f} {p99:>7.2f} {errors:>6}" if i == 0 else " " * 28
        print(f"{head} | {member['name']:<6} {s['role']:<9} {s['rss'] / MiB:>8.0f} {s['anon'] / MiB:>9.0f} {s['heap'] / MiB:>9.0f} {s['files']:>6} {s['threads']:>7} {s['data'] / MiB:>9.1f}",
              flush=True)

growing = []
for name, samples in history.items():
    first = samples[0]
    worst = max(samples[1:] or samples, key=lambda s: s["rss"])
    if worst["rss"] > first["rss"] * 1.25 + 32 * MiB:
        growing.append(f"{name} RSS {first['rss'] / MiB:.0f} -> {worst['rss'] / MiB:.0f} MiB")
    for what in ("files", "threads"):
        most = max(s[what] for s in samples)
        if most > first[what] * 1.5 + 16:
            growing.append(f"{name} {what} {first[what]} -> {most}")
last = {name: samples[-1] for name, samples in history.items()}
for name, s in last.items():
    if s["role"] == "leader":
        followers = [f["rss"] for f in last.values() if f["position"] == s["position"] and f["role"] == "follower"]
        if followers and s["rss"] > 1.3 * max(followers):
            growing.append(f"leader {name} RSS {s['rss'] / MiB:.0f} MiB > 1.3 x its largest follower's {max(followers) / MiB:.0f} MiB")
largest_data = max(s["data"] for samples in history.values() for s in samples)
verdict = "flat" if not growing and errors_total == 0 else "NOT flat"
print(f"verdict: {verdict}" + (f": {'; '.join(growing)}" if growing else "") + (f"; {errors_total} errors" if errors_total else "") +
      f" ({len(members)} members, {minutes} min, largest data directory {largest_data / MiB:.0f} MiB)")
sys.exit(0 if verdict == "flat" else 3)
PY
) || verdict=$?
echo "($(nproc) cores, $(date +%F), workload $workload, $callers callers, $keys keys × 256 B)"
exit "$verdict"
