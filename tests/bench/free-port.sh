# shellcheck shell=bash
# free-port.sh — sourced by the bench scripts that start servers (run-bench.sh:
# memcached, Redis; bench-seafile.sh: seaf-server).

# free_port: prints a port below the kernel's ephemeral range
# (ip_local_port_range starts at 32768) that no socket uses in any state: a
# client connection's local port makes a server's bind fail ("Address already
# in use") as surely as a listener does.
free_port() {
  local p
  while :; do
    p=$(( 20000 + RANDOM % 12000 ))
    ss -Hatn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
  done
}
