# Sourced by the bench scripts: builds KvAspire in Release, starts the nodes of one topology on loopback
# in a temporary directory (by default one position × 3 replicas: one Raft group, like a 3-member etcd)
# and waits until each knows its leader. Sets: root, work, topology, node_dll, bench_dll, pids (killed,
# and the directory removed, on exit), leader (host:port of the first group's leader); find_member_pids
# then sets leader_pid and follower_pid (one of the others).
# KVASPIRE_TOPOLOGY=<cluster.json> runs another topology; a script may set topology_json to its own.
# With on_hosts=1 (bench/hosts.sh up first), node i runs in namespace kvh<i> and the status checks and
# clients (in_clients) in kvsw.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d /tmp/kvaspire-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "building (Release)…"
dotnet build -c Release -v q --nologo "$root/KvAspire.Node" >/dev/null
dotnet build -c Release -v q --nologo "$root/KvAspire.Bench" >/dev/null
node_dll="$root/KvAspire.Node/bin/Release/net10.0/KvAspire.Node.dll"
bench_dll="$root/KvAspire.Bench/bin/Release/net10.0/KvAspire.Bench.dll"

topology=${KVASPIRE_TOPOLOGY:-$work/cluster.json}
if [ -n "${topology_json:-}" ]; then
  echo "$topology_json" > "$topology"
elif [ -z "${KVASPIRE_TOPOLOGY:-}" ]; then
  cat > "$topology" <<JSON
{ "Cluster": { "IdBits": 64, "Replicas": 3, "DataDirectory": "data", "SnapshotIntervalSeconds": 30,
  "Nodes": [ { "Name": "p0r0", "Position": 0, "Host": "127.0.0.1", "GrpcPort": 7600, "RaftPort": 7700 },
             { "Name": "p0r1", "Position": 0, "Host": "127.0.0.1", "GrpcPort": 7601, "RaftPort": 7701 },
             { "Name": "p0r2", "Position": 0, "Host": "127.0.0.1", "GrpcPort": 7602, "RaftPort": 7702 } ] } }
JSON
fi
mapfile -t nodes < <(python3 -c "import json,sys; [print(n['Name'], n['Host'], n['GrpcPort'], n['RaftPort'], n['Position']) for n in json.load(open(sys.argv[1]))['Cluster']['Nodes']]" "$topology")

# Runs a command where the clients are: the machine itself, or kvsw on namespaced hosts.
in_clients() { if [ "${on_hosts:-0}" = 1 ]; then ip netns exec kvsw "$@"; else "$@"; fi; }

# Starts every node (the caller's environment, DOTNET_ settings for instance, passes through) and waits
# until each knows its group's leader; sets leader to position 0's.
start_group() {
  echo "starting KvAspire (${#nodes[@]} node(s))"
  local node name host grpc http position i=0
  for node in "${nodes[@]}"; do
    read -r name host grpc http position <<<"$node"
    if [ "${on_hosts:-0}" = 1 ]; then
      ip netns exec "kvh$i" dotnet "$node_dll" --cluster "$topology" --node "$name" > "$work/$name.log" 2>&1 &
    else
      dotnet "$node_dll" --cluster "$topology" --node "$name" > "$work/$name.log" 2>&1 &
    fi
    i=$((i + 1))
    pids+=($!)
    disown
  done
  for node in "${nodes[@]}"; do
    read -r name host grpc http position <<<"$node"
    until in_clients curl -sf "http://$host:$http/status" | grep -q '"leader":"'; do sleep 0.1; done
  done
  leader=""
  until [ -n "$leader" ]; do
    for node in "${nodes[@]}"; do
      read -r name host grpc http position <<<"$node"
      if [ "$position" = 0 ] && in_clients curl -sf "http://$host:$http/status" | grep -q '"role":"leader"'; then
        leader="$host:$grpc"
      fi
    done
  done
  echo "leader of position 0: $leader"
}

# Sets leader_pid to the process of the node at $leader and follower_pid to one of the others'.
find_member_pids() {
  local node name host grpc http position i=0
  leader_pid=""; follower_pid=""
  for node in "${nodes[@]}"; do
    read -r name host grpc http position <<<"$node"
    if [ "$host:$grpc" = "$leader" ]; then leader_pid=${pids[$i]}; else follower_pid=${pids[$i]}; fi
    i=$((i + 1))
  done
}
