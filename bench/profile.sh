#!/usr/bin/env bash
# Where the time goes: one position × 3 replicas on loopback under one bench load sent to the leader,
# with a system-wide CPU profile (perf, 499 Hz, call graphs) of the measured phase. Prints the load's
# result, then CPU shares by process, by layer (kernel, .NET code, runtime), by system call, and the
# .NET assemblies and methods that cost most.
#
#   bench/profile.sh [workload = write] [clients = 64] [seconds = 8]
#
# Needs perf (Debian: linux-perf) with permission to sample every process (root, or
# kernel.perf_event_paranoid ≤ -1), curl and python3. The nodes run with perf maps on and W^X off so
# that perf can name JIT-compiled methods; both cost a little. The perf data stays in $KEEP if set.
set -euo pipefail
workload=${1:-write}
clients=${2:-64}
seconds=${3:-8}
command -v perf >/dev/null || { echo "perf is not installed (Debian: apt-get install linux-perf)" >&2; exit 1; }
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
source "$(dirname "$0")/group.sh"
start_group

load=(--node "$leader" --workload "$workload" --clients "$clients" --keys 10000 --value-size 256 --warmup 2 bench)
echo "warming up (unmeasured)…"
dotnet "$bench_dll" --duration 6 "${load[@]}" >/dev/null 2>&1
echo "measuring $workload at $clients client(s) for $seconds s, profiling the middle of the run…"
dotnet "$bench_dll" --duration $((seconds + 4)) "${load[@]}" > "$work/bench.txt" 2>&1 &
load=$!
sleep 3
perf record -F 499 -a -g -o "$work/perf.data" -- sleep "$seconds" >/dev/null 2>&1
wait "$load"
tail -n 1 "$work/bench.txt"

perf script -i "$work/perf.data" -F pid,ip,sym,dso 2>/dev/null | python3 -c '
import collections, re, sys
names = {int(p): n for p, n in (a.split("=") for a in sys.argv[1:])} | {0: "idle"}
by_process, by_layer, kernel_paths, assemblies, methods = (collections.Counter() for _ in range(5))
total = 0
for sample in sys.stdin.read().split("\n\n"):
    lines = sample.strip().split("\n")
    if not lines[0].strip():
        continue
    total += 1
    pid = int(lines[0].split()[0])
    frames = [l.strip().split(None, 1)[1] if len(l.strip().split(None, 1)) > 1 else "" for l in lines[1:]]
    by_process[names.get(pid, "other")] += 1
    top = frames[0] if frames else ""
    layer = ("kernel" if "kernel.kallsyms" in top else ".NET code" if "[JIT]" in top or "perf-" in top
             else "runtime (coreclr, JIT)" if "libcoreclr" in top or "libclrjit" in top else "other native")
    by_layer[layer] += 1
    syscall = next((re.sub(r"^__x64_sys_", "", f.split()[0]) for f in frames if f.startswith("__x64_sys_")), None)
    if syscall:
        kernel_paths["syscall " + syscall] += 1
    elif layer == "kernel":
        stack = " ".join(frames)
        kernel_paths["idle" if pid == 0 else "page faults" if "page_fault" in stack
                     else "softirqs (loopback network, disk completions)" if "softirq" in stack
                     else "context switches, other"] += 1
    if layer == ".NET code":
        assembly = re.search(r"\[([\w.]+)\] ", top)
        assemblies[assembly.group(1) if assembly else "stubs"] += 1
        plain = top.split("(")[0]
        while re.search(r"\[[^\[\]]*\]", plain):
            plain = re.sub(r"\[[^\[\]]*\]", "", plain)
        methods[plain.split()[-1] if plain.split() else top[:80]] += 1
def show(title, counter, n):
    print(f"\n{title}")
    for key, count in counter.most_common(n):
        print(f"  {100 * count / total:5.1f}%  {key}")
print(f"\n{total} samples over 2 cores")
show("by process", by_process, 8)
show("by layer", by_layer, 4)
show("kernel time by system call or cause", kernel_paths, 12)
show(".NET code by assembly (self time)", assemblies, 8)
show(".NET methods (self time)", methods, 12)
' $(for i in "${!nodes[@]}"; do read -r name _ grpc _ _ <<<"${nodes[$i]}"; role=follower; [ "127.0.0.1:$grpc" = "$leader" ] && role=leader; echo "${pids[$i]}=$name($role)"; done) "$load=load generator"
[ -n "${KEEP:-}" ] && cp "$work/perf.data" "$KEEP"
echo "($(nproc) cores, $(date -u +%Y-%m-%d))"
