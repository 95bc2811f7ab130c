#!/usr/bin/env bash
# Starts a single-node SLURM cluster on this machine for the SLURM executor's
# tests: installs Debian's slurm-wlm daemons and munge if missing, writes a
# slurm.conf for this machine into $RULES_SLURM_DIR (default
# ${TMPDIR:-/tmp}/rules-slurm), starts munged, slurmctld and slurmd, and waits
# until the node takes jobs. Needs root (the daemons run as root, without
# systemd). scripts/slurm-down.sh stops exactly the daemons this started.
#
# Clients find the cluster through SLURM_CONF=$RULES_SLURM_DIR/slurm.conf
# (printed at the end), or /etc/slurm/slurm.conf when there was none.
set -euo pipefail

DIR="${RULES_SLURM_DIR:-${TMPDIR:-/tmp}/rules-slurm}"
CONF="$DIR/slurm.conf"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  echo "slurm-up: installing slurmctld slurmd slurm-client munge ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

mkdir -p "$DIR/state" "$DIR/spool" "$DIR/munge"
chown munge:munge "$DIR/munge" 2>/dev/null || true

# munge: authentication between the daemons and the clients.
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=128 count=1 status=none
  chown munge:munge /etc/munge/munge.key 2>/dev/null || true
  chmod 400 /etc/munge/munge.key
fi
if ! munge -n >/dev/null 2>&1; then
  mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
  munged --force --pid-file="$DIR/munged.pid" 2>/dev/null || munged --force
  [ -s "$DIR/munged.pid" ] || pgrep -n munged > "$DIR/munged.pid"
  echo started > "$DIR/munged.ours"
fi

# slurm.conf for this machine: its CPUs and memory, as slurmd sees them.
HOST="$(hostname -s)"
NODE="$(slurmd -C | head -n 1)"
CPUS="$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$NODE")"
MEM="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$NODE")"
# A little memory is left to the machine itself.
MEM=$(( MEM * 9 / 10 ))
cat > "$CONF" <<EOF
ClusterName=rules
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=$(( MEM / CPUS ))
EnforcePartLimits=ALL
SchedulerParameters=batch_sched_delay=0
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=3600
ReturnToService=2
MpiDefault=none
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
if [ ! -e /etc/slurm/slurm.conf ]; then
  mkdir -p /etc/slurm
  ln -s "$CONF" /etc/slurm/slurm.conf
  echo linked > "$DIR/etc-link.ours"
fi
export SLURM_CONF="$CONF"

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if ! alive "$DIR/slurmctld.pid"; then
  slurmctld -f "$CONF" -i
fi
if ! alive "$DIR/slurmd.pid"; then
  slurmd -f "$CONF"
fi

# Ready when the node is idle (or mixed/allocated: already running jobs).
for _ in $(seq 1 100); do
  if sinfo -h -N -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
    echo "slurm-up: node $HOST ready ($CPUS CPUs, $MEM MB); SLURM_CONF=$CONF"
    exit 0
  fi
  sleep 0.2
done
echo "slurm-up: the node did not come up; logs in $DIR" >&2
sinfo -N -l >&2 || true
tail -n 20 "$DIR/slurmctld.log" "$DIR/slurmd.log" >&2 || true
exit 1
