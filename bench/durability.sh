# Sourced by bench/compare-etcd.sh: what durability costs on this machine, measured in the same run.
#   disk_floor <directory>       prints "p50 p99" in ms of one durable write where the data lives: append
#                                256 B and fdatasync, 2,000 times (one caller's write can go no faster)
#   durable_ops_per_write <label> <member>=<pid>... -- <client command>
#                                runs the client command (a one-caller write bench, --json, doing only the
#                                writes it reports: --skip-preload --warmup 0) while strace follows every
#                                member, and prints "<label> <member>: <durable disk operations per
#                                acknowledged write>" for each. A durable disk operation is a sync call
#                                (fsync, fdatasync, msync, sync_file_range) or a write to a file opened with
#                                O_SYNC, O_DSYNC or O_DIRECT. Those that reach only memory (a file on tmpfs, or
#                                a mapping of one) are shown apart and not counted: they cost no disk.

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

durable_ops_per_write() {
  local label=$1 member pid members=() traces=() tracers=()
  shift
  while [ "$1" != "--" ]; do members+=("$1"); shift; done
  shift
  command -v strace >/dev/null || { echo "$label: strace is not installed (Debian: strace)"; return; }
  for member in "${members[@]}"; do
    pid=${member#*=}
    traces+=("$work/strace-$label-$pid")
    strace -f -y -qq -e trace=openat,fsync,fdatasync,msync,sync_file_range,write,pwrite64,writev,pwritev,pwritev2 \
      -e signal=none -o "$work/strace-$label-$pid" -p "$pid" 2>/dev/null &
    tracers+=($!)
  done
  sleep 1 # strace attaches to every thread before the run starts
  # Which file each mapping is, sampled through the run: a file mapped then removed (a page file of
  # DotNext's log after compaction) is gone from the map by the end.
  local samplers=()
  for i in "${!members[@]}"; do
    pid=${members[$i]#*=}
    rm -f "${traces[$i]}.done"
    ( while kill -0 "$pid" 2>/dev/null && [ ! -e "${traces[$i]}.done" ]; do cat "/proc/$pid/maps" 2>/dev/null; sleep 0.2; done > "${traces[$i]}.maps" ) &
    samplers+=($!)
  done
  local acknowledged
  acknowledged=$("$@" 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['succeeded'])")
  for i in "${!members[@]}"; do
    # What each open file was opened with: read before the tracers stop.
    pid=${members[$i]#*=}
    for fd in /proc/"$pid"/fdinfo/*; do echo "${fd##*/} $(readlink "/proc/$pid/fd/${fd##*/}" 2>/dev/null) $(awk '/^flags:/ {print $2}' "$fd" 2>/dev/null)"; done > "${traces[$i]}.fds" 2>/dev/null || true
    touch "${traces[$i]}.done"
  done
  wait "${samplers[@]}" 2>/dev/null || true
  for pid in "${tracers[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait "${tracers[@]}" 2>/dev/null || true
  for i in "${!members[@]}"; do
    python3 - "${traces[$i]}" "$acknowledged" "$label" "${members[$i]%%=*}" <<'PY'
import os, re, subprocess, sys
trace, writes, label, member = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
SYNC_FLAGS = 0o4010000 | 0o10000 | 0o40000  # O_SYNC (includes O_DSYNC's bit), O_DSYNC, O_DIRECT
flags_of = {}    # path -> open flags, from the fd table at the end and from every open seen
for line in open(trace + ".fds"):
    parts = line.split()
    if len(parts) == 3:
        flags_of[parts[1]] = int(parts[2], 8)
maps = set()    # (start, end, path) of every shared writable file mapping seen: the only kind msync writes back
for line in open(trace + ".maps"):
    parts = line.split(maxsplit=5)
    if len(parts) == 6 and parts[5].startswith("/") and parts[1].startswith("rw") and parts[1].endswith("s"):
        start, end = (int(x, 16) for x in parts[0].split("-"))
        maps.add((start, end, parts[5].strip()))
in_memory = {}
def memory_only(path):
    if path.startswith("/memfd:"):
        return True
    folder = os.path.dirname(path)
    if folder not in in_memory:
        kind = subprocess.run(["stat", "-f", "-c", "%T", folder], capture_output=True, text=True).stdout.strip()
        in_memory[folder] = kind in ("tmpfs", "ramfs")
    return in_memory[folder]
counts, memory = {}, {}
call = re.compile(r"^\d+\s+(?:<\.\.\. )?(\w+)(?:\(| resumed>)(.*)$")
fd_path = re.compile(r"^(\d+)<([^>]*)>")
opened = re.compile(r'^openat\(\w+(?:<[^>]*>)?, "([^"]+)", ([A-Z_|]+).*= (\d+)<([^>]*)>')
FLAG_BITS = {"O_SYNC": 0o4010000, "O_DSYNC": 0o10000, "O_DIRECT": 0o40000}
for line in open(trace):
    m = call.match(line)
    if not m or "resumed>" in line:
        continue  # a call cut in two is counted at its first half, which names the file
    name, rest = m.groups()
    if name == "openat":
        o = opened.match("openat(" + rest)
        if o:
            flags_of[o.group(4)] = sum(bits for flag, bits in FLAG_BITS.items() if flag in o.group(2).split("|"))
        continue
    kind, path = None, None
    if name in ("fsync", "fdatasync", "sync_file_range"):
        f = fd_path.match(rest)
        if f:
            kind, path = name, f.group(2)
    elif name == "msync":
        address = int(rest.split(",")[0], 16)
        # A range may have held several mappings over the run (the runtime's memfd double mappings of
        # code reuse addresses): one in memory is the one written back, as no disk file was mapped so.
        paths = sorted({p for s, e, p in maps if s <= address < e}, key=lambda p: not memory_only(p))
        path = paths[0] if paths else "?"
        kind = "msync" if path != "?" else "msync of a mapping not seen"
    else:  # a write: durable only to a file opened O_SYNC, O_DSYNC or O_DIRECT
        f = fd_path.match(rest)
        if f and f.group(2).startswith("/") and flags_of.get(f.group(2), 0) & SYNC_FLAGS:
            kind, path = "O_SYNC/O_DIRECT write", f.group(2)
    if kind is None:
        continue
    target = memory if path != "?" and memory_only(path) else counts
    target[kind] = target.get(kind, 0) + 1
detail = ", ".join(f"{name} {count / max(writes, 1):.2f}" for name, count in sorted(counts.items())) or "none"
line = f"{label} {member}: {sum(counts.values()) / max(writes, 1):.2f} durable disk operations per acknowledged write ({detail}; {writes:,} writes)"
if memory:
    line += "; to memory only (tmpfs, not counted): " + ", ".join(f"{name} {count / max(writes, 1):.2f}" for name, count in sorted(memory.items()))
print(line)
PY
  done
}
