#!/usr/bin/env bash
# Start a one-node SLURM cluster with job accounting on this machine, so that
# tests/test_slurm.py can run the workflow through `--executor slurm`.
#
# Debian/Ubuntu, as root, without systemd. Installs slurm-wlm, slurmdbd, munge and
# mariadb-server if missing, then starts munged, MariaDB, slurmdbd, slurmctld and slurmd
# with all state, sockets, logs and pid files under $HERON_SLURM_DIR, registers a
# cluster, an account and the calling user with sacctmgr, and checks that a job runs.
# Everything listens on 127.0.0.1 only. Stop and clean up with stop-slurm.sh, which
# this script also calls itself when starting fails.
#
# Settings (environment):
#   HERON_SLURM_DIR       state directory            [/tmp/heron-slurm]
#   HERON_SLURM_CLUSTER   cluster name               [heron]
#   HERON_SLURM_ACCOUNT   account the user submits as [heron]
#   HERON_SLURM_PARTITION partition name             [main]
#   HERON_SLURM_DB_PORT   MariaDB port on 127.0.0.1  [3307]
#   HERON_SLURM_WAIT      seconds each step may take to come up [60]
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUN_DIR=${HERON_SLURM_DIR:-/tmp/heron-slurm}
CLUSTER=${HERON_SLURM_CLUSTER:-heron}
ACCOUNT=${HERON_SLURM_ACCOUNT:-heron}
PARTITION=${HERON_SLURM_PARTITION:-main}
DB_PORT=${HERON_SLURM_DB_PORT:-3307}
WAIT=${HERON_SLURM_WAIT:-60}
SLURM_USER=${SUDO_USER:-$(id -un)}
CONF_DIR=/etc/slurm
# Marks the config files this script wrote, so that neither script ever touches a real
# cluster's configuration.
MARKER="# heron test cluster: written by tests/cluster/start-slurm.sh"
PACKAGES=(slurm-wlm slurmdbd munge mariadb-server)

log() { echo "start-slurm: $*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
    log "must run as root (it installs packages and starts system daemons)"
    exit 1
fi

# Run "$@" until it succeeds, for at most $WAIT seconds; name the step on failure.
wait_for() {
    local what=$1
    shift
    local deadline=$((SECONDS + WAIT))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            log "$what did not come up within ${WAIT}s"
            return 1
        fi
        sleep 1
    done
}

install_packages() {
    local missing=()
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    log "installing ${missing[*]}"
    # Package scripts must not start their own copies of the daemons: on a machine
    # without a policy-rc.d, install one that denies service starts for the duration.
    local policy=/usr/sbin/policy-rc.d own_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        own_policy=1
    fi
    # Another apt/dpkg run on the same machine holds the lock for a while: wait for it.
    local apt=(apt-get -o DPkg::Lock::Timeout=600 -y -q)
    local rc=0
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >/dev/null &&
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends \
            "${missing[@]}" >/dev/null || rc=$?
    ((own_policy)) && rm -f "$policy"
    return $rc
}

refuse_foreign_config() {
    for f in "$CONF_DIR/slurm.conf" "$CONF_DIR/slurmdbd.conf"; do
        if [[ -e $f ]] && ! grep -qxF "$MARKER" "$f"; then
            log "$f exists and was not written by this script; refusing to replace it"
            exit 1
        fi
    done
}

# A daemon from an earlier start still running (a pid file whose process has the
# daemon's name; a stale pid file from a killed run does not count).
already_running() {
    local name comm pid
    for name in munged:munged mariadb:mariadbd slurmdbd:slurmdbd slurmctld:slurmctld slurmd:slurmd; do
        comm=${name#*:}
        name=${name%%:*}
        pid=$(tr -dc '0-9' 2>/dev/null <"$RUN_DIR/pids/$name.pid") || continue
        [[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == "$comm" ]] && return 0
    done
    return 1
}

start_munge() {
    install -d -o munge -g munge -m 0755 "$RUN_DIR/munge"
    runuser -u munge -- munged \
        --socket="$RUN_DIR/munge/munge.socket" \
        --pid-file="$RUN_DIR/munge/munged.pid" \
        --log-file="$RUN_DIR/munge/munged.log" \
        --seed-file="$RUN_DIR/munge/munged.seed"
    wait_for "munged" test -s "$RUN_DIR/munge/munged.pid"
    cp "$RUN_DIR/munge/munged.pid" "$RUN_DIR/pids/munged.pid"
    wait_for "munge credentials" sh -c \
        "munge -S '$RUN_DIR/munge/munge.socket' -n | unmunge -S '$RUN_DIR/munge/munge.socket'"
}

start_mariadb() {
    install -d -o mysql -g mysql -m 0750 "$RUN_DIR/mysql"
    mariadb-install-db --user=mysql --datadir="$RUN_DIR/mysql" \
        --auth-root-authentication-method=socket --skip-test-db \
        >"$RUN_DIR/mysql/install.out" 2>&1 || { cat "$RUN_DIR/mysql/install.out" >&2; false; }
    # --no-defaults: a system my.cnf must not move the data directory, socket or port.
    mariadbd --no-defaults --user=mysql --datadir="$RUN_DIR/mysql" \
        --socket="$RUN_DIR/mysql/mysqld.sock" --pid-file="$RUN_DIR/mysql/mariadb.pid" \
        --bind-address=127.0.0.1 --port="$DB_PORT" \
        --log-error="$RUN_DIR/mysql/mariadb.log" \
        --innodb-buffer-pool-size=128M --innodb-lock-wait-timeout=900 \
        </dev/null >/dev/null 2>&1 &
    echo $! >"$RUN_DIR/pids/mariadb.pid"
    wait_for "MariaDB" mariadb-admin --no-defaults --socket="$RUN_DIR/mysql/mysqld.sock" ping
    mariadb --no-defaults --socket="$RUN_DIR/mysql/mysqld.sock" -u root <<SQL
CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
SQL
}

write_configs() {
    local host cpus mem_mb
    host=$(hostname -s)
    cpus=$(nproc)
    # Leave 1 GB to the operating system: a node declaring more memory than it has is
    # drained by slurmctld.
    mem_mb=$(awk '/^MemTotal:/ {m = int($2 / 1024) - 1024; print (m < 1000 ? 1000 : m)}' \
        /proc/meminfo)
    install -d -m 0755 "$CONF_DIR"
    cat >"$CONF_DIR/slurm.conf" <<EOF
$MARKER
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
AuthInfo=socket=$RUN_DIR/munge/munge.socket
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$RUN_DIR/state
SlurmdSpoolDir=$RUN_DIR/spool
SlurmctldPidFile=$RUN_DIR/pids/slurmctld.pid
SlurmdPidFile=$RUN_DIR/pids/slurmd.pid
SlurmctldLogFile=$RUN_DIR/log/slurmctld.log
SlurmdLogFile=$RUN_DIR/log/slurmd.log
# No systemd and no cgroup hierarchy to delegate here: track processes through /proc.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=6819
# Clients reach slurmdbd with credentials from this munged, not the system default socket.
AccountingStoragePass=$RUN_DIR/munge/munge.socket
AccountingStorageEnforce=associations
JobCompType=jobcomp/none
# The SLURM executor writes the rule name into each job's comment; keep it in accounting.
AccountingStoreFlags=job_comment
MinJobAge=300
KillWait=5
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    chmod 644 "$CONF_DIR/slurm.conf"
    cat >"$CONF_DIR/slurmdbd.conf" <<EOF
$MARKER
AuthType=auth/munge
AuthInfo=socket=$RUN_DIR/munge/munge.socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=root
PidFile=$RUN_DIR/pids/slurmdbd.pid
LogFile=$RUN_DIR/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
    # slurmdbd refuses a config readable by others (it holds the database password).
    chmod 600 "$CONF_DIR/slurmdbd.conf"
}

node_idle() { sinfo -h -N -o %T | grep -qx idle; }

register_accounts() {
    sacctmgr -i add cluster "$CLUSTER" >/dev/null
    sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" \
        Description="heron workflow tests" Organization=heron >/dev/null
    sacctmgr -i add user "$SLURM_USER" Account="$ACCOUNT" Cluster="$CLUSTER" >/dev/null
    sacctmgr -i modify user where name="$SLURM_USER" set DefaultAccount="$ACCOUNT" >/dev/null
}

on_error() {
    local rc=$?
    log "failed (exit $rc); daemon logs:"
    for f in "$RUN_DIR"/log/*.log "$RUN_DIR"/mysql/mariadb.log "$RUN_DIR"/munge/munged.log; do
        [[ -s $f ]] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
    done
    "$HERE/stop-slurm.sh" || true
    exit $rc
}

install_packages
refuse_foreign_config
if already_running; then
    log "a test cluster is already running from $RUN_DIR; run stop-slurm.sh first"
    exit 1
fi
trap on_error ERR
rm -rf "$RUN_DIR"
install -d -m 0755 "$RUN_DIR" "$RUN_DIR/pids" "$RUN_DIR/log" "$RUN_DIR/state" "$RUN_DIR/spool"
DB_PASS=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')

start_munge
start_mariadb
write_configs

slurmdbd
wait_for "slurmdbd" sacctmgr -n show cluster
register_accounts

slurmctld
wait_for "slurmctld" scontrol ping
slurmd
wait_for "slurmd (node idle)" node_idle

# A job that runs and is seen by accounting is what the executor plugin relies on.
timeout "$WAIT" srun -A "$ACCOUNT" -p "$PARTITION" -N1 -n1 -t 1 true
log "SLURM cluster '$CLUSTER' is up: partition '$PARTITION', account '$ACCOUNT', state in $RUN_DIR"
