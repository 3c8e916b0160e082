# shellcheck shell=bash
# Services that strata's tests and demo need, found or started on this machine.
#
# Source this file (scripts/test.sh and scripts/demo.sh do), then call
# `ensure_postgres`. It makes sure a PostgreSQL server that accepts
# password-less connections as $PGUSER is reachable and exports
# PGHOST, PGPORT and PGUSER for everything started afterwards.
#
# In order, it:
#   1. uses the server at $PGHOST:$PGPORT (default 127.0.0.1:5432) if one answers;
#   2. starts the machine's existing Debian cluster with pg_ctlcluster;
#   3. installs PostgreSQL with apt-get (root, or password-less sudo) and starts it;
#   4. as a last resort, creates a project-local cluster with trust auth on a free
#      port under ${XDG_CACHE_HOME:-$HOME/.cache}/strata/pgdata and starts it.
# If none of that works it stops with a message saying what failed.
#
# `ensure_moto` (further down, where it is described) does the same for moto, the
# AWS emulator the AWS provider is tested and demoed against.
#
# Sourcing it also defaults CARGO_TARGET_DIR to ~/.cache/strata-target and puts
# ~/.cargo/bin on PATH if cargo is not already there.

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME}/.cache/strata-target}"
if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME}/.cargo/bin/cargo" ]; then
    export PATH="${HOME}/.cargo/bin:${PATH}"
fi

_svc_log() {
    printf 'services: %s\n' "$*" >&2
}

# Prints a loud banner with a "!! " line per line of its arguments.
_svc_banner() {
    {
        printf '\n'
        printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
        local arg line
        for arg in "$@"; do
            while IFS= read -r line; do
                printf '!!%s\n' "${line:+ ${line}}"
            done <<<"$arg"
        done
        printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
        printf '\n'
    } >&2
}

_svc_die() {
    # shellcheck disable=SC2016 # printed literally, for the reader to run
    _svc_banner \
        'PostgreSQL is not available, so strata cannot be tested or demoed.' \
        '' \
        "$@" \
        '' \
        'To fix it, either start a server yourself and point PGHOST/PGPORT/PGUSER' \
        'at it (it must accept that user without a password), or run as root:' \
        '    apt-get update && apt-get install -y postgresql' \
        '    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' \
        'then run this command again.'
    exit 1
}

# Runs a command as root: directly when we are root, else through password-less sudo.
_svc_as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        return 1
    fi
}

# True if something accepts connections on HOST PORT.
_svc_accepting() {
    local host="$1" port="$2"
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$host" -p "$port" -t 3 >/dev/null 2>&1
    else
        timeout 3 bash -c "exec 3<>/dev/tcp/${host}/${port}" >/dev/null 2>&1
    fi
}

# True if HOST PORT lets USER in without a password (checked with psql when it
# is installed; without psql, accepting connections has to do).
_svc_usable() {
    local host="$1" port="$2" user="$3"
    _svc_accepting "$host" "$port" || return 1
    if command -v psql >/dev/null 2>&1; then
        PGCONNECT_TIMEOUT=5 psql -X -q -w -h "$host" -p "$port" -U "$user" -d postgres \
            -Atc 'SELECT 1' >/dev/null 2>&1
    fi
}

# Waits up to 30 seconds for HOST PORT to accept connections.
_svc_wait() {
    local host="$1" port="$2" _
    for _ in $(seq 1 60); do
        _svc_accepting "$host" "$port" && return 0
        sleep 0.5
    done
    return 1
}

_svc_use() {
    export PGHOST="$1" PGPORT="$2" PGUSER="$3"
    _svc_log "using PostgreSQL at ${PGHOST}:${PGPORT} as ${PGUSER}"
}

# Prints "VERSION CLUSTER" of the newest Debian cluster, if any.
# shellcheck disable=SC2012 # version and cluster directory names are plain words
_svc_debian_cluster() {
    [ -d /etc/postgresql ] || return 1
    local version cluster
    version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$version" ] || return 1
    if [ -d "/etc/postgresql/${version}/main" ]; then
        cluster=main
    else
        cluster="$(ls "/etc/postgresql/${version}" 2>/dev/null | head -n 1)"
    fi
    [ -n "$cluster" ] || return 1
    printf '%s %s\n' "$version" "$cluster"
}

# Port a Debian cluster listens on (from pg_lsclusters, else its config).
_svc_cluster_port() {
    local version="$1" cluster="$2" port=""
    if command -v pg_lsclusters >/dev/null 2>&1; then
        port="$(pg_lsclusters -h 2>/dev/null | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3; exit }')"
    fi
    if [ -z "$port" ] && [ -r "/etc/postgresql/${version}/${cluster}/postgresql.conf" ]; then
        port="$(sed -n 's/^[[:space:]]*port[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' \
            "/etc/postgresql/${version}/${cluster}/postgresql.conf" | head -n 1)"
    fi
    printf '%s\n' "${port:-5432}"
}

# Starts the existing Debian cluster. Prints its port on success.
_svc_start_debian_cluster() {
    command -v pg_ctlcluster >/dev/null 2>&1 || return 1
    local found version cluster port
    found="$(_svc_debian_cluster)" || return 1
    read -r version cluster <<<"$found"
    port="$(_svc_cluster_port "$version" "$cluster")"
    if ! _svc_accepting 127.0.0.1 "$port"; then
        _svc_log "starting PostgreSQL cluster ${version}/${cluster} (pg_ctlcluster)"
        if ! _svc_as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start >&2; then
            _svc_log "pg_ctlcluster ${version} ${cluster} start failed"
            return 1
        fi
        _svc_wait 127.0.0.1 "$port" || { _svc_log "cluster ${version}/${cluster} did not come up on port ${port}"; return 1; }
    fi
    printf '%s\n' "$port"
}

# Lets local TCP connections in without a password on a cluster this script
# has just installed (Debian's default asks for one).
_svc_trust_local() {
    local version="$1" cluster="$2" hba="/etc/postgresql/$1/$2/pg_hba.conf"
    [ -f "$hba" ] || return 1
    _svc_log "allowing password-less local connections in ${hba} (fresh install)"
    _svc_as_root sed -i \
        -e '1i host    all    all    127.0.0.1/32    trust' \
        -e '1i host    all    all    ::1/128         trust' "$hba" || return 1
    _svc_as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" reload >&2 || return 1
}

_svc_apt_install() {
    command -v apt-get >/dev/null 2>&1 || { _svc_log "apt-get is not available"; return 1; }
    _svc_as_root true || { _svc_log "installing PostgreSQL needs root (or password-less sudo)"; return 1; }
    _svc_log "installing PostgreSQL with apt-get (this takes a minute)"
    _svc_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || { _svc_log "apt-get update failed"; return 1; }
    _svc_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 || { _svc_log "apt-get install postgresql failed"; return 1; }
}

# Directory holding the newest installed PostgreSQL server binaries.
# shellcheck disable=SC2012 # /usr/lib/postgresql/VERSION/bin
_svc_pg_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
        printf '%s\n' "$dir"
        return 0
    fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

_svc_free_port() {
    local port
    for port in $(seq 55432 55531); do
        if ! _svc_accepting 127.0.0.1 "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

# Runs a command as OWNER (empty: as ourselves).
_svc_as_owner() {
    local owner="$1"
    shift
    if [ -z "$owner" ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$owner" -- "$@"
    else
        su -s /bin/sh "$owner" -c "$(printf '%q ' "$@")"
    fi
}

# Creates (once) and starts a cluster of our own with trust auth. Prints its port.
_svc_local_cluster() {
    local bindir datadir port owner=""
    bindir="$(_svc_pg_bindir)" || { _svc_log "no initdb/pg_ctl found"; return 1; }
    datadir="${XDG_CACHE_HOME:-$HOME/.cache}/strata/pgdata"

    # PostgreSQL refuses to run as root: run it as the `postgres` user, with a
    # data directory that user can reach (root's home usually is not).
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || { _svc_log "running as root and there is no postgres user to run the server as"; return 1; }
        owner=postgres
        mkdir -p "$(dirname "$datadir")"
        if ! _svc_as_owner "$owner" test -x "$(dirname "$datadir")" 2>/dev/null; then
            datadir="/var/tmp/strata-$(id -un)/pgdata"
        fi
    fi

    if [ ! -s "$datadir/PG_VERSION" ]; then
        port="$(_svc_free_port)" || { _svc_log "no free port in 55432-55531"; return 1; }
        _svc_log "creating a project-local PostgreSQL cluster in ${datadir} (port ${port})"
        mkdir -p "$datadir"
        chmod 700 "$datadir"
        [ -z "$owner" ] || chown "$owner" "$datadir"
        _svc_as_owner "$owner" "$bindir/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >&2 \
            || _svc_as_owner "$owner" "$bindir/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 --no-locale >&2 \
            || { _svc_log "initdb failed"; return 1; }
        {
            printf '\n# added by strata scripts/services.sh\n'
            printf 'port = %s\n' "$port"
            printf "listen_addresses = '127.0.0.1'\n"
            printf "unix_socket_directories = ''\n"
        } | _svc_as_owner "$owner" tee -a "$datadir/postgresql.conf" >/dev/null
    fi
    port="$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$datadir/postgresql.conf" | tail -n 1)"
    port="${port:-5432}"
    if ! _svc_accepting 127.0.0.1 "$port"; then
        _svc_log "starting the project-local cluster (port ${port}, log ${datadir}/server.log)"
        _svc_as_owner "$owner" "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 30 start >&2 \
            || { _svc_log "pg_ctl start failed; see ${datadir}/server.log"; return 1; }
    fi
    printf '%s\n' "$port"
}

ensure_postgres() {
    local host="${PGHOST:-127.0.0.1}" port="${PGPORT:-5432}" user="${PGUSER:-postgres}"
    local found version cluster tried=()

    # 1. Something already running where we were told to look.
    if _svc_usable "$host" "$port" "$user"; then
        _svc_use "$host" "$port" "$user"
        return 0
    fi
    if _svc_accepting "$host" "$port"; then
        tried+=("${host}:${port} accepts connections but not as ${user} without a password")
    else
        tried+=("nothing answers at ${host}:${port}")
    fi
    _svc_log "no usable PostgreSQL at ${host}:${port}; trying to start one"

    # 2. The machine's existing cluster.
    if port="$(_svc_start_debian_cluster)"; then
        if _svc_usable 127.0.0.1 "$port" "$user"; then
            _svc_use 127.0.0.1 "$port" "$user"
            return 0
        fi
        tried+=("the existing cluster is up on port ${port} but does not let ${user} in without a password")
    elif command -v pg_ctlcluster >/dev/null 2>&1 && _svc_debian_cluster >/dev/null; then
        tried+=("starting the existing cluster with pg_ctlcluster failed")
    fi

    # 3. Install it.
    if ! _svc_pg_bindir >/dev/null; then
        if _svc_apt_install; then
            if found="$(_svc_debian_cluster)" && port="$(_svc_start_debian_cluster)"; then
                read -r version cluster <<<"$found"
                if ! _svc_usable 127.0.0.1 "$port" "$user"; then
                    _svc_trust_local "$version" "$cluster" || true
                fi
                if _svc_usable 127.0.0.1 "$port" "$user"; then
                    _svc_use 127.0.0.1 "$port" "$user"
                    return 0
                fi
                tried+=("installed PostgreSQL but its cluster on port ${port} is not usable")
            else
                tried+=("installed PostgreSQL but could not start its cluster")
            fi
        else
            tried+=("could not install PostgreSQL with apt-get")
        fi
    fi

    # 4. A cluster of our own.
    if port="$(_svc_local_cluster)"; then
        if _svc_wait 127.0.0.1 "$port" && _svc_usable 127.0.0.1 "$port" postgres; then
            _svc_use 127.0.0.1 "$port" postgres
            return 0
        fi
        tried+=("the project-local cluster started on port ${port} but is not usable")
    else
        tried+=("could not create or start a project-local cluster with initdb/pg_ctl")
    fi

    _svc_die "Tried, in order:" "${tried[@]/#/  - }"
}

# ---------------------------------------------------------------------------
# moto: the AWS emulator that strata's AWS provider is tested and demoed against.
#
# `ensure_moto`:
#   1. installs moto[server]==$_moto_version into $repo/.venv/moto (re-used while it
#      holds exactly that version; pip's cache stays in ~/.cache/pip, outside the clone);
#   2. re-uses the server at $STRATA_MOTO_URL if one is exported and answers (a
#      developer may keep one running; it is then left running), else starts
#      `moto_server` on a free 127.0.0.1 port and waits for it to answer;
#   3. exports STRATA_MOTO_URL and AWS_ENDPOINT_URL (the server), fake credentials
#      (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY=testing), AWS_REGION and
#      AWS_DEFAULT_REGION=us-east-1 and AWS_EC2_METADATA_DISABLED=true, and unsets
#      AWS_PROFILE, AWS_SESSION_TOKEN and the other ways an AWS SDK finds real
#      credentials (the ~/.aws files become /dev/null), so that nothing started
#      afterwards can reach a developer's real AWS account.
# A server it started is stopped by `stop_moto`, which ensure_moto appends to the
# caller's EXIT trap (with add_exit_trap). A script that sets its EXIT trap with
# `trap` after calling ensure_moto replaces that: set yours first, use
# add_exit_trap, or call stop_moto from yours. As a safety net, a
# watchdog stops the server within a second of the calling shell's end however
# that ends (kill -9 included).
# `moto_python ARGS...` runs the venv's python, which has boto3;
# `moto_default_vpc` prints the id of moto's default VPC;
# `moto_reset` empties the server (every service, every region).

_moto_version=5.2.1
_moto_venv="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv/moto"
_moto_url=""
_moto_pid=""
_moto_watchdog_pid=""
_moto_log=""

_moto_die() {
    _svc_banner \
        "The moto AWS emulator is not available, so strata's AWS provider cannot be tested or demoed." \
        '' \
        "$@" \
        '' \
        'To fix it, run as root:' \
        '    apt-get update && apt-get install -y python3 python3-venv' \
        "    rm -rf ${_moto_venv}" \
        "then run this command again (it reinstalls moto[server]==${_moto_version} there)." \
        'Or start moto_server yourself and export STRATA_MOTO_URL=http://127.0.0.1:PORT.'
    exit 1
}

# Prints the moto version installed in the venv (fails if the venv or its
# server extra is missing or broken, e.g. after the base python was removed).
_moto_installed_version() {
    [ -x "${_moto_venv}/bin/python" ] && [ -x "${_moto_venv}/bin/moto_server" ] || return 1
    "${_moto_venv}/bin/python" -c 'import flask, moto; print(moto.__version__)' 2>/dev/null
}

# Creates an empty venv. Debian ships python's venv module (ensurepip) in a
# separate package, so on failure install python3-venv and try again.
_moto_create_venv() {
    local out="$1" python
    command -v python3 >/dev/null 2>&1 || _moto_die "python3 is not installed."
    python3 -m venv --clear "$_moto_venv" >"$out" 2>&1 && return 0
    _svc_log "python3 -m venv failed; installing python3-venv with apt-get"
    if ! _svc_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2; then
        # Maybe only the package lists are missing (a fresh machine).
        if ! { _svc_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 \
            && _svc_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2; }; then
            _moto_die "python3 -m venv failed, and so did apt-get install python3-venv (needs root or password-less sudo)." \
                "python3 -m venv said:" "$(tail -n 5 "$out")"
        fi
    fi
    # python3-venv is for Debian's python, which may not be the first python3 on PATH.
    for python in python3 /usr/bin/python3; do
        "$python" -m venv --clear "$_moto_venv" >"$out" 2>&1 && return 0
    done
    _moto_die "python3 -m venv ${_moto_venv} failed even with python3-venv installed:" "$(tail -n 5 "$out")"
}

# Installs the pinned moto unless the venv already has it. Runs under a lock so
# that two scripts started at once do not install into the same venv together.
_moto_ensure_venv() {
    [ "$(_moto_installed_version)" = "$_moto_version" ] && return 0
    mkdir -p "$(dirname "$_moto_venv")"
    (
        command -v flock >/dev/null 2>&1 && flock 9
        [ "$(_moto_installed_version)" = "$_moto_version" ] && exit 0
        out="$(mktemp "${TMPDIR:-/tmp}/strata-moto-install.XXXXXX")"
        trap 'rm -f "$out"' EXIT
        "${_moto_venv}/bin/python" -c 'import sys' 2>/dev/null || _moto_create_venv "$out"
        _svc_log "installing moto[server]==${_moto_version} into ${_moto_venv} (once; takes a minute)"
        PIP_CACHE_DIR="${PIP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pip}" \
            "${_moto_venv}/bin/python" -m pip install -q --disable-pip-version-check \
            "moto[server]==${_moto_version}" >"$out" 2>&1 \
            || _moto_die "pip install moto[server]==${_moto_version} failed; its last lines:" "$(tail -n 15 "$out")"
        [ "$(_moto_installed_version)" = "$_moto_version" ] \
            || _moto_die "pip install moto[server]==${_moto_version} succeeded but the venv does not import it."
    ) 9>"${_moto_venv}.lock" || exit 1
}

# True if a moto server answers at URL.
_moto_answers() {
    local url="$1/moto-api/"
    if command -v curl >/dev/null 2>&1; then
        curl -fsS --noproxy '*' -m 2 -o /dev/null "$url" 2>/dev/null
    else
        "${_moto_venv}/bin/python" -c 'import sys, urllib.request
urllib.request.build_opener(urllib.request.ProxyHandler({})).open(sys.argv[1], timeout=2)' "$url" 2>/dev/null
    fi
}

_moto_free_port() {
    "${_moto_venv}/bin/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Fake credentials and region for every AWS client started from now on, and
# none of the places an SDK would find real ones.
_moto_fake_aws_env() {
    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
    export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
    export AWS_EC2_METADATA_DISABLED=true
    export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
    unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN \
        AWS_ROLE_ARN AWS_ROLE_SESSION_NAME AWS_WEB_IDENTITY_TOKEN_FILE \
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI
    # The server is on loopback: never send its traffic through a proxy.
    export NO_PROXY="${NO_PROXY:+${NO_PROXY},}127.0.0.1,localhost"
    export no_proxy="${no_proxy:+${no_proxy},}127.0.0.1,localhost"
}

_moto_use() {
    export STRATA_MOTO_URL="$1" AWS_ENDPOINT_URL="$1"
}

# add_exit_trap COMMAND: appends COMMAND to the EXIT trap, keeping what is
# already there, so that scripts and these helpers can each add their cleanup.
add_exit_trap() {
    local command="$1" current=""
    # `trap -p` quotes the current commands; let the shell unquote them.
    eval "set -- $(trap -p EXIT)"
    [ $# -ge 3 ] && current="$3"
    case "$current" in *"$command"*) return 0 ;; esac
    # shellcheck disable=SC2064 # expanded now on purpose
    trap -- "${current:+${current}; }${command}" EXIT
}

# Starts moto_server on a free port; sets _moto_url, _moto_pid and _moto_log and
# exports the URL once it answers. Returns 1 if the server died (a port race: try again), 2 if it never answered.
_moto_start() {
    local port _
    port="$(_moto_free_port)" || return 1
    _moto_url="http://127.0.0.1:${port}"
    _moto_log="$(mktemp "${TMPDIR:-/tmp}/strata-moto.XXXXXX")"
    "${_moto_venv}/bin/moto_server" -H 127.0.0.1 -p "$port" </dev/null >"$_moto_log" 2>&1 &
    _moto_pid=$!
    # Not a job the shell reports on ("Terminated" when stop_moto kills it).
    disown "$_moto_pid" 2>/dev/null || true
    for _ in $(seq 1 150); do
        if _moto_answers "$_moto_url"; then
            _moto_use "$_moto_url"
            return 0
        fi
        kill -0 "$_moto_pid" 2>/dev/null || return 1
        sleep 0.2
    done
    return 2
}

# Kills the server when the shell that started it is gone, even if that shell
# never ran its EXIT trap. Holds none of the caller's file descriptors, so it
# never keeps a pipe such as `scripts/test.sh | tee` open.
_moto_start_watchdog() {
    local owner="$BASHPID" server="$_moto_pid" log="$_moto_log"
    [ -z "${STRATA_MOTO_KEEP_LOG:-}" ] || log=""
    (
        while kill -0 "$owner" 2>/dev/null && kill -0 "$server" 2>/dev/null; do
            sleep 1
        done
        kill "$server" 2>/dev/null
        [ -z "$log" ] || rm -f "$log"
    ) </dev/null >/dev/null 2>&1 &
    _moto_watchdog_pid=$!
    disown "$_moto_watchdog_pid" 2>/dev/null || true
}

# Stops the server ensure_moto started (never one it re-used). Safe to call
# more than once and from an EXIT trap under `set -e`.
stop_moto() {
    if [ -n "$_moto_watchdog_pid" ]; then
        kill "$_moto_watchdog_pid" 2>/dev/null || true
        _moto_watchdog_pid=""
    fi
    if [ -n "$_moto_pid" ]; then
        kill "$_moto_pid" 2>/dev/null || true
        local _
        for _ in $(seq 1 50); do
            kill -0 "$_moto_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$_moto_pid" 2>/dev/null || true
        _moto_pid=""
    fi
    # Its log (every request) is kept only on request, for debugging.
    if [ -n "$_moto_log" ] && [ -z "${STRATA_MOTO_KEEP_LOG:-}" ]; then
        rm -f "$_moto_log"
    fi
    _moto_log=""
    return 0
}

ensure_moto() {
    local attempt status=1
    _moto_ensure_venv
    _moto_fake_aws_env

    # Called again in the same script: keep the server started the first time.
    if [ -n "$_moto_pid" ] && _moto_answers "$_moto_url"; then
        _moto_use "$_moto_url"
        return 0
    fi
    if [ -n "${STRATA_MOTO_URL:-}" ]; then
        if _moto_answers "$STRATA_MOTO_URL"; then
            _moto_use "$STRATA_MOTO_URL"
            _svc_log "using the moto server at ${STRATA_MOTO_URL} (STRATA_MOTO_URL; left running)"
            return 0
        fi
        _svc_log "nothing answers at STRATA_MOTO_URL=${STRATA_MOTO_URL}; starting a moto server of our own"
    fi

    for attempt in 1 2 3; do
        _moto_start && status=0 || status=$?
        if [ "$status" != 1 ] || [ "$attempt" = 3 ]; then
            break
        fi
        _svc_log "moto_server exited at start (attempt ${attempt}); its log: $(tail -n 1 "$_moto_log" 2>/dev/null)"
        rm -f "$_moto_log"
    done
    if [ "$status" != 0 ]; then
        local tail_lines what
        tail_lines="$(tail -n 20 "$_moto_log" 2>/dev/null)"
        if [ "$status" = 2 ]; then
            what="did not answer at ${_moto_url}/moto-api/ within 30 s."
            kill -9 "$_moto_pid" 2>/dev/null || true
        else
            what="exited right after starting, three times (on three free ports)."
        fi
        rm -f "$_moto_log"
        _moto_pid="" _moto_log=""
        _moto_die "${_moto_venv}/bin/moto_server ${what}" "The end of its log:" "${tail_lines:-(empty)}"
    fi
    _moto_start_watchdog
    add_exit_trap stop_moto
    _svc_log "started moto ${_moto_version} at ${STRATA_MOTO_URL} (pid ${_moto_pid}, log ${_moto_log}); stopped when this script exits"
}

moto_python() {
    "${_moto_venv}/bin/python" "$@"
}

# Prints the id of the default VPC moto creates in $AWS_REGION.
moto_default_vpc() {
    moto_python - <<'PY'
import os
import boto3

ec2 = boto3.client("ec2", endpoint_url=os.environ["STRATA_MOTO_URL"])
vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
if not vpcs:
    raise SystemExit("moto has no default VPC in " + os.environ["AWS_REGION"])
print(vpcs[0]["VpcId"])
PY
}

# Empties the moto server: what a fresh database is to the demo and benchmarks,
# so that they can run again against a server that is kept running.
moto_reset() {
    moto_python -c 'import os, urllib.request
request = urllib.request.Request(os.environ["STRATA_MOTO_URL"] + "/moto-api/reset", method="POST")
urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10)'
}
