#!/usr/bin/env bash
# Network namespaces as hosts, to run a cluster by hand the way it runs across machines: host i is the
# namespace kvh<i> at 198.18.1.<10+i>, all on one bridge in the namespace kvsw (198.18.1.1, where clients
# run). The addresses exist only inside these namespaces; nothing of the machine's own network is touched.
# Needs root, ip (iproute2) and, for loss, nft (nftables).
#
#   bench/hosts.sh up [count=6]     make the hosts (removes an earlier set first)
#   bench/hosts.sh loss <percent>   drop that share of the packets between hosts, every way; clients' links stay clean
#   bench/hosts.sh heal             no loss
#   bench/hosts.sh down             remove everything it made
set -euo pipefail
subnet=198.18.1
existing() { ip netns list | awk '{print $1}' | grep -E '^kv(h[0-9]+|sw)$' || true; }
hosts() { ip netns list | awk '{print $1}' | grep -E '^kvh[0-9]+$' | sort -V || true; }

down() { for ns in $(existing); do ip netns delete "$ns"; done; }

up() {
  local count=${1:-6} i
  down
  ip netns add kvsw
  ip -n kvsw link set lo up
  ip -n kvsw link add br0 type bridge
  ip -n kvsw addr add "$subnet.1/24" dev br0
  ip -n kvsw link set br0 up
  for ((i = 0; i < count; i++)); do
    ip netns add "kvh$i"
    ip -n "kvh$i" link set lo up
    # Both ends are made from inside kvsw: the machine's own namespace never sees them.
    ip -n kvsw link add "v$i" type veth peer name eth0 netns "kvh$i"
    ip -n kvsw link set "v$i" master br0 up
    ip -n "kvh$i" addr add "$subnet.$((10 + i))/24" dev eth0
    ip -n "kvh$i" link set eth0 up
  done
  echo "$count hosts: kvh0 … kvh$((count - 1)) at $subnet.10 … $subnet.$((9 + count)); clients in kvsw ($subnet.1)"
}

loss() {
  local percent=$1 ns
  for ns in $(hosts); do
    ip netns exec "$ns" nft delete table inet kvhosts 2>/dev/null || true
    ip netns exec "$ns" nft add table inet kvhosts
    # Dropped where they arrive, as a lossy link loses them: a packet dropped on its way out is reported
    # to the sender's TCP as a local failure, which Linux retries on a 200 ms timer no network imposes.
    ip netns exec "$ns" nft add chain inet kvhosts in '{ type filter hook input priority 0; policy accept; }'
    # Only what comes from the other hosts (.10 and up): the clients in kvsw (.1) are always heard.
    ip netns exec "$ns" nft add rule inet kvhosts in ip saddr "$subnet.10-$subnet.254" numgen random mod 100 '<' "$percent" drop
  done
  echo "$percent % of the packets between hosts dropped"
}

heal() {
  local ns
  for ns in $(hosts); do ip netns exec "$ns" nft delete table inet kvhosts 2>/dev/null || true; done
  echo "links whole"
}

case "${1:-}" in
  up) up "${2:-6}" ;;
  down) down ;;
  loss) loss "${2:?loss needs a percentage}" ;;
  heal) heal ;;
  *) sed -n '2,11p' "$0" >&2; exit 2 ;;
esac
