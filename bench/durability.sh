# Sourced by bench/compare-etcd.sh: what durability costs on this machine, measured in the same run.
#   disk_floor <directory>       prints "p50 p99" in ms of one durable write where the data lives: append
#                                256 B and fdatasync, 2,000 times (one caller's write can go no faster)
#   sync_calls_per_write <label> <member>=<pid>... -- <client command>
#                                runs the client command (a one-caller write bench, --json, doing only the
#                                writes it reports: --skip-preload --warmup 0) while strace counts every
#                                member's sync calls (fsync, fdatasync, msync, sync_file_range), and prints
#                                "<label> <member>: <calls per acknowledged write>" for each.
# Writes to files opened O_SYNC, O_DSYNC or O_DIRECT are durable too but are not counted here: neither
# KvAspire's nor etcd's default configuration opens its logs that way.

disk_floor() {
  python3 - "$1" <<'PY'
import os, sys, time
path = os.path.join(sys.argv[1], "disk-floor.tmp")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
block, times = b"x" * 256, []
try:
    for _ in range(2000):
        start = time.perf_counter()
        os.write(fd, block)
        os.fdatasync(fd)
        times.append((time.perf_counter() - start) * 1000)
finally:
    os.close(fd)
    os.unlink(path)
times.sort()
print(f"{times[len(times) // 2]:.3f} {times[int(len(times) * 0.99)]:.3f}")
PY
}

sync_calls_per_write() {
  local label=$1 member pid members=() traces=() tracers=()
  shift
  while [ "$1" != "--" ]; do members+=("$1"); shift; done
  shift
  command -v strace >/dev/null || { echo "$label: strace is not installed (Debian: strace)"; return; }
  for member in "${members[@]}"; do
    pid=${member#*=}
    traces+=("$work/strace-$label-$pid")
    strace -f -c -e trace=fsync,fdatasync,msync,sync_file_range -o "$work/strace-$label-$pid" -p "$pid" 2>/dev/null &
    tracers+=($!)
  done
  sleep 1 # strace attaches to every thread before the run starts
  local acknowledged
  acknowledged=$("$@" 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['succeeded'])")
  for pid in "${tracers[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait "${tracers[@]}" 2>/dev/null || true
  local i
  for i in "${!members[@]}"; do
    python3 - "${traces[$i]}" "$acknowledged" "$label" "${members[$i]%%=*}" <<'PY'
import sys
calls = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) >= 5 and parts[-1] in ("fsync", "fdatasync", "msync", "sync_file_range") and parts[3].isdigit():
        calls[parts[-1]] = int(parts[3])
writes = int(sys.argv[2])
detail = ", ".join(f"{name} {count / writes:.2f}" for name, count in sorted(calls.items()))
print(f"{sys.argv[3]} {sys.argv[4]}: {sum(calls.values()) / max(writes, 1):.2f} sync calls per acknowledged write ({detail or 'none'}; {writes:,} writes)")
PY
  done
}
