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
# It also defaults CARGO_TARGET_DIR to ~/.cache/strata-target and puts
# ~/.cargo/bin on PATH if cargo is not already there.

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME}/.cache/strata-target}"
if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME}/.cargo/bin/cargo" ]; then
    export PATH="${HOME}/.cargo/bin:${PATH}"
fi

_svc_log() {
    printf 'services: %s\n' "$*" >&2
}

_svc_die() {
    {
        printf '\n'
        printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
        printf '!! PostgreSQL is not available, so strata cannot be tested or demoed.\n'
        printf '!!\n'
        local line
        for line in "$@"; do
            printf '!! %s\n' "$line"
        done
        printf '!!\n'
        printf '!! To fix it, either start a server yourself and point PGHOST/PGPORT/PGUSER\n'
        printf '!! at it (it must accept that user without a password), or run as root:\n'
        printf '!!     apt-get update && apt-get install -y postgresql\n'
        # shellcheck disable=SC2016 # printed literally, for the reader to run
        printf '!!     pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n'
        printf '!! then run this command again.\n'
        printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
        printf '\n'
    } >&2
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
