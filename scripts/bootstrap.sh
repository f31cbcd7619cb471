#!/usr/bin/env bash
# Idempotent installers behind `make venv|jars|tools`: scripts/bootstrap.sh STEP [STEP...]
#   venv   .venv + uv + requirements.txt + `pip install -e .`   (stamp: .venv/.netqos-deps-<sha>)
#   jars   Delta / hadoop-aws jars via Maven into the jar cache  (stamp: <jars dir>/.netqos-jars-<sha>)
#   tools  tshark + capinfos + tcpdump, chromium, postgresql and redis-server from apt, only if missing
#   checkov  checkov (Terraform static analysis) in its own venv under $NETQOS_HOME/tools (its pins clash with
#          Airflow's; stamp: <venv>/.netqos-checkov-<version>)
#   minio  MinIO server for the S3 tests, built with `go install` into $NETQOS_HOME/bin
#          (stamp: <bin dir>/.netqos-minio-<version>; an existing binary of that version is accepted)
#   make   GNU make from apt, only if missing (for bare CI machines)
# A step whose stamp matches returns at once and touches no network.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

VENV=${VENV:-$ROOT/.venv}
CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}
# Outside the repo so a fresh clone (CI) reuses earlier downloads.
export UV_CACHE_DIR=${UV_CACHE_DIR:-$CACHE_HOME/uv}
# Same folder as Settings.spark.jars_dir (netqos/settings.py); the Makefile exports it to Python too.
if [[ -n ${NETQOS_HOME:-} ]]; then default_jars=$NETQOS_HOME/jars; else default_jars=$CACHE_HOME/netqos/jars; fi
JARS_DIR=${NETQOS_SPARK__JARS_DIR:-$default_jars}
# tests/s3server.py looks for the MinIO binary in the same place (NETQOS_MINIO_BIN overrides both).
BIN_DIR=${NETQOS_HOME:-$CACHE_HOME/netqos}/bin
MINIO_BIN=${NETQOS_MINIO_BIN:-$BIN_DIR/minio}
# A pseudo-version known to build with go1.26; bump it here and the stamp makes the next run rebuild.
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
UV_VERSION=0.13.9
CHECKOV_VERSION=3.3.30
CHECKOV_VENV=${NETQOS_HOME:-$CACHE_HOME/netqos}/tools/checkov
PY_WANT=3.11  # requirements.txt is compiled for it (`make lock`)

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }
hash16() { cat "$@" | sha256sum | cut -c1-16; }

# apt-get install, as root or through sudo; never prompts.
apt_install() {
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "need root or sudo to apt-get install $*; install them yourself and rerun"
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null || die "no apt-get here: install $* with your package manager and rerun"
    log "apt-get install $*"
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

python_ok() {  # is $1 a working Python $PY_WANT?
    [[ -x $1 ]] && "$1" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$PY_WANT'.split('.'))))" 2>/dev/null
}

step_venv() {
    local stamp="$VENV/.netqos-deps-$(hash16 requirements.txt pyproject.toml)"
    if [[ -f $stamp ]] && python_ok "$VENV/bin/python"; then log "python deps up to date"; return 0; fi

    if ! python_ok "$VENV/bin/python"; then
        local py="" cand
        for cand in ${PYTHON:-} python$PY_WANT python3; do
            if command -v "$cand" >/dev/null && python_ok "$(command -v "$cand")"; then
                py=$("$cand" -c 'import sys; print(sys.executable)')  # the real binary, not a pyenv shim
                break
            fi
        done
        [[ -n $py ]] || die "Python $PY_WANT not found (tried \$PYTHON, python$PY_WANT, python3); install it or set PYTHON=/path/to/python$PY_WANT"
        log "creating $VENV with $py"
        # --clear: an old .venv from another Python is replaced, not patched.
        "$py" -m venv --clear "$VENV" || die "'$py -m venv' failed (on Debian: apt-get install python$PY_WANT-venv)"
    fi
    if [[ $("$VENV/bin/uv" --version 2>/dev/null) != "uv $UV_VERSION"* ]]; then
        log "installing uv $UV_VERSION"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
    fi
    log "uv pip install -r requirements.txt (cache: $UV_CACHE_DIR)"
    "$VENV/bin/uv" pip install -q --python "$VENV/bin/python" -r requirements.txt
    "$VENV/bin/uv" pip install -q --python "$VENV/bin/python" --no-deps -e .
    rm -f "$VENV"/.netqos-deps-*
    touch "$stamp"
    log "python deps ready"
}

step_jars() {
    local pom=infra/jars/pom.xml
    local stamp_name=".netqos-jars-$(hash16 "$pom")"
    if [[ -f $JARS_DIR/$stamp_name ]] && compgen -G "$JARS_DIR/delta-spark_*.jar" >/dev/null; then
        log "Spark jars up to date in $JARS_DIR"
        return 0
    fi

    command -v java >/dev/null || apt_install openjdk-17-jdk-headless
    command -v mvn >/dev/null || apt_install maven
    # Fill a scratch folder and swap it in whole: a pom change never leaves two Delta versions behind.
    local tmp="$JARS_DIR.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$(dirname "$JARS_DIR")"
    local args=(-B -ntp -f "$pom" dependency:copy-dependencies "-Dnetqos.jars.dir=$tmp")
    # Offline first: when ~/.m2 already holds everything this needs no network at all.
    if ! mvn -o -q "${args[@]}" >"$tmp.log" 2>&1; then
        rm -rf "$tmp"
        log "fetching Spark jars from Maven Central into ~/.m2 (first time only; the AWS SDK bundle is ~680 MB)"
        mvn "${args[@]}" || die "mvn failed; see the output above"
    fi
    rm -f "$tmp.log"
    compgen -G "$tmp/delta-spark_*.jar" >/dev/null || die "mvn ran but no delta-spark jar landed in $tmp; check $pom"
    touch "$tmp/$stamp_name"
    rm -rf "$JARS_DIR"
    mv "$tmp" "$JARS_DIR"
    log "Spark jars ready in $JARS_DIR ($(find "$JARS_DIR" -name '*.jar' | wc -l) jars)"
}

step_tools() {
    local missing=()
    command -v tshark >/dev/null && command -v capinfos >/dev/null || missing+=(tshark)  # wireshark-common brings capinfos
    command -v tcpdump >/dev/null || missing+=(tcpdump)  # the capture agent's tcpdump backend
    [[ -x /usr/bin/chromium ]] || missing+=(chromium)  # the Airflow UI tests drive it through Playwright
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)  # `netqos airflow up`'s DB
    command -v redis-server >/dev/null || missing+=(redis-server)  # Celery broker of `netqos airflow up --executor celery`
    if [[ ${#missing[@]} -eq 0 ]]; then log "tshark + tcpdump + chromium + postgresql + redis-server present"; return 0; fi
    if [[ " ${missing[*]} " == *" tshark "* ]]; then
        # tshark's package asks whether non-root users may capture; answer "no" up front (no prompt, no setuid).
        local sudo=()
        [[ $(id -u) -eq 0 ]] || sudo=(sudo)
        if command -v debconf-set-selections >/dev/null; then
            echo "wireshark-common wireshark-common/install-setuid boolean false" | "${sudo[@]}" debconf-set-selections
        fi
    fi
    apt_install "${missing[@]}"
    command -v tshark >/dev/null && command -v capinfos >/dev/null || die "tshark/capinfos still missing after apt-get"
    command -v tcpdump >/dev/null || die "tcpdump still missing after apt-get"
    [[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium still missing after apt-get"
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || die "postgresql (initdb) still missing after apt-get"
    command -v redis-server >/dev/null || die "redis-server still missing after apt-get"
    log "$(tshark --version | head -1); $(tcpdump --version 2>&1 | head -1); $(/usr/bin/chromium --version 2>/dev/null | head -1)"
}

# Prints the module version `go install` stamped into a Go binary ("" when unreadable or not MinIO).
go_binary_version() {
    go version -m "$1" 2>/dev/null | awk -v m="$MINIO_MODULE" '$1 == "mod" && $2 == m { print $3 }'
}

step_minio() {
    local stamp
    stamp="$(dirname "$MINIO_BIN")/.netqos-minio-$MINIO_VERSION"
    if [[ -f $stamp && -x $MINIO_BIN ]]; then log "minio $MINIO_VERSION present ($MINIO_BIN)"; return 0; fi

    # The official tarball's place, for shells whose PATH lacks it (CI's non-login shell).
    if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then PATH=$PATH:/usr/local/go/bin; fi
    command -v go >/dev/null || die "go not found: MinIO for the S3 tests is built from source with Go >= 1.24" \
        "(install it from https://go.dev/dl/ into /usr/local/go and add /usr/local/go/bin to PATH, then rerun)"
    mkdir -p "$(dirname "$MINIO_BIN")"
    # A binary built earlier (by hand or before the stamp existed) counts if Go says it is this version.
    if [[ -x $MINIO_BIN && $(go_binary_version "$MINIO_BIN") == "$MINIO_VERSION" ]]; then
        rm -f "$(dirname "$MINIO_BIN")"/.netqos-minio-*
        touch "$stamp"
        log "minio $MINIO_VERSION present ($MINIO_BIN, checked with go version -m)"
        return 0
    fi

    # Build into a scratch GOBIN and move the binary in whole: an interrupted build leaves no half binary.
    local tmp="$(dirname "$MINIO_BIN")/.minio-build.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    log "building $MINIO_MODULE@$MINIO_VERSION with $(go version | cut -d' ' -f3) (first time only, ~7 min)"
    # Modules come from the Go module proxy only (no `direct` VCS fallback) unless GOPROXY is set.
    if ! GOBIN=$tmp GOPROXY=${GOPROXY:-https://proxy.golang.org} go install "$MINIO_MODULE@$MINIO_VERSION"; then
        rm -rf "$tmp"
        die "go install $MINIO_MODULE@$MINIO_VERSION failed; see the output above"
    fi
    [[ $(go_binary_version "$tmp/minio") == "$MINIO_VERSION" ]] || { rm -rf "$tmp"; die "go install left no minio $MINIO_VERSION in $tmp"; }
    mv -f "$tmp/minio" "$MINIO_BIN"
    rm -rf "$tmp"
    rm -f "$(dirname "$MINIO_BIN")"/.netqos-minio-*
    touch "$stamp"
    log "minio $MINIO_VERSION ready in $MINIO_BIN"
}

step_checkov() {
    local stamp="$CHECKOV_VENV/.netqos-checkov-$CHECKOV_VERSION"
    if [[ -f $stamp && -x $CHECKOV_VENV/bin/checkov ]]; then log "checkov $CHECKOV_VERSION present"; return 0; fi
    [[ -x $VENV/bin/uv ]] || step_venv
    log "installing checkov $CHECKOV_VERSION into $CHECKOV_VENV"
    rm -rf "$CHECKOV_VENV"
    "$VENV/bin/uv" venv -q --python "$VENV/bin/python" "$CHECKOV_VENV"
    "$VENV/bin/uv" pip install -q --python "$CHECKOV_VENV/bin/python" "checkov==$CHECKOV_VERSION"
    touch "$stamp"
    log "checkov ready: $("$CHECKOV_VENV/bin/checkov" --version)"
}

step_make() {
    command -v make >/dev/null || apt_install make
}

[[ $# -gt 0 ]] || die "usage: $0 venv|jars|tools|checkov|minio|make ..."
for step in "$@"; do
    case $step in
        venv|deps) step_venv ;;
        jars) step_jars ;;
        tools) step_tools ;;
        minio) step_minio ;;
        checkov) step_checkov ;;
        make) step_make ;;
        *) die "unknown step '$step' (venv, jars, tools, checkov, minio, make)" ;;
    esac
done
