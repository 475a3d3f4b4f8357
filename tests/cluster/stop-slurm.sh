#!/usr/bin/env bash
# Stop the test cluster that start-slurm.sh started and remove what it wrote.
#
# Cancels the cluster's jobs, stops slurmd, slurmctld, slurmdbd, MariaDB and munged by
# the process ids recorded in $HERON_SLURM_DIR/pids (each checked against the daemon's
# name, so a stale pid file never hits another process), then deletes the state
# directory and the /etc/slurm files start-slurm.sh wrote. Safe to run at any time,
# also when nothing is running; every wait is bounded. Exits non-zero only if a daemon
# survived SIGKILL.
set -uo pipefail

RUN_DIR=${HERON_SLURM_DIR:-/tmp/heron-slurm}
CONF_DIR=/etc/slurm
MARKER="# heron test cluster: written by tests/cluster/start-slurm.sh"
GRACE=${HERON_SLURM_STOP_GRACE:-15}

log() { echo "stop-slurm: $*" >&2; }

# The pid recorded for a daemon, if that process is alive and is that daemon.
live_pid() {
    local name=$1 comm=$2 pidfile="$RUN_DIR/pids/$1.pid" pid
    [[ -s $pidfile ]] || return 1
    pid=$(tr -dc '0-9' <"$pidfile")
    [[ -n $pid && -r /proc/$pid/comm ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$comm" ]] || return 1
    echo "$pid"
}

stop_daemon() {
    local name=$1 comm=$2 pid
    pid=$(live_pid "$name" "$comm") || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < GRACE * 5; i++)); do
        kill -0 "$pid" 2>/dev/null || { log "stopped $name ($pid)"; return 0; }
        sleep 0.2
    done
    log "$name ($pid) ignored SIGTERM for ${GRACE}s; killing it"
    kill -KILL "$pid" 2>/dev/null
    sleep 1
    if kill -0 "$pid" 2>/dev/null; then
        log "$name ($pid) is still running"
        return 1
    fi
}

# Jobs still running would leave their slurmstepd and processes behind once slurmd is
# gone: cancel them while the controller still answers.
if live_pid slurmctld slurmctld >/dev/null && [[ -s $CONF_DIR/slurm.conf ]] &&
    grep -qxF "$MARKER" "$CONF_DIR/slurm.conf"; then
    jobs=$(timeout 10 squeue -h -o %i 2>/dev/null || true)
    if [[ -n $jobs ]]; then
        log "cancelling jobs: $(echo $jobs)"
        # shellcheck disable=SC2086
        timeout 10 scancel $jobs 2>/dev/null || true
        for ((i = 0; i < GRACE; i++)); do
            [[ -z $(timeout 10 squeue -h -o %i 2>/dev/null) ]] && break
            sleep 1
        done
    fi
fi

status=0
stop_daemon slurmd slurmd || status=1
stop_daemon slurmctld slurmctld || status=1
stop_daemon slurmdbd slurmdbd || status=1
stop_daemon mariadb mariadbd || status=1
stop_daemon munged munged || status=1

for f in "$CONF_DIR/slurm.conf" "$CONF_DIR/slurmdbd.conf"; do
    if [[ -e $f ]] && grep -qxF "$MARKER" "$f"; then
        rm -f "$f"
    fi
done
if ((status == 0)); then
    rm -rf "$RUN_DIR"
else
    log "left $RUN_DIR in place for inspection"
fi
exit $status
