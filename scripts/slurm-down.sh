#!/usr/bin/env bash
# Stops the daemons scripts/slurm-up.sh started (by their PID files), and
# nothing else; removes the /etc/slurm/slurm.conf link if it made one.
set -uo pipefail

DIR="${RULES_SLURM_DIR:-${TMPDIR:-/tmp}/rules-slurm}"

stop() {
  local pidfile="$1"
  [ -s "$pidfile" ] || return 0
  local pid
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop "$DIR/slurmd.pid"
stop "$DIR/slurmctld.pid"
if [ -e "$DIR/munged.ours" ]; then
  stop "$DIR/munged.pid"
  rm -f "$DIR/munged.ours"
fi
if [ -e "$DIR/etc-link.ours" ] && [ -L /etc/slurm/slurm.conf ]; then
  rm -f /etc/slurm/slurm.conf "$DIR/etc-link.ours"
fi
echo "slurm-down: stopped"
