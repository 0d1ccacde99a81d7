#!/usr/bin/env bash
# Installs the peers weir's WebSocket conformance and interop tests use, all under
# target/ws-peers/ (pins in conformance/ws/):
#   py2/   Python 2.7 virtualenv with Autobahn|Testsuite (`wstest`), requirements-py2.txt
#   py3/   Python 3 venv with `websockets`, and `h2` and `httpx` for the HTTP interop tests,
#          requirements-py3.txt
#   node/  npm `ws` for tests/ws_interop_node.rs, node/package.json (needs node and npm)
#
#   scripts/ws-peers.sh install   install what is missing or out of date (quick when done)
#   scripts/ws-peers.sh check     exit 0 when everything is installed and current
#
# Each part is reinstalled only when its pin file changed (a stamp holds the file's hash).
# Interpreters: WS_PYTHON2 / WS_PYTHON3 override the search; python2.7 is looked for under
# $(pyenv root)/versions/2.7.*/ and then on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

CONF=conformance/ws
PEERS=target/ws-peers

say() { printf 'ws-peers: %s\n' "$*"; }
die() { printf 'ws-peers: error: %s\n' "$*" >&2; exit 1; }

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# True when the stamp in directory $1 matches the hash $2.
is_current() { [[ -f $1/.weir-stamp && $(cat "$1/.weir-stamp") == "$2" ]]; }

find_python2() {
    local candidates=() root cand
    [[ -n ${WS_PYTHON2:-} ]] && candidates+=("$WS_PYTHON2")
    if command -v pyenv >/dev/null 2>&1; then
        root=$(pyenv root 2>/dev/null || true)
    fi
    root=${root:-${PYENV_ROOT:-$HOME/.pyenv}}
    # Newest 2.7.x first.
    for cand in $(ls -d "$root"/versions/2.7.*/bin/python2.7 2>/dev/null | sort -Vr); do
        candidates+=("$cand")
    done
    cand=$(command -v python2.7 2>/dev/null || true)
    [[ -n $cand ]] && candidates+=("$cand")
    for cand in "${candidates[@]}"; do
        # A pyenv shim exists even when no 2.7 is selected: run it to be sure.
        if "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (2, 7))' >/dev/null 2>&1; then
            echo "$cand"
            return 0
        fi
    done
    return 1
}

find_python3() {
    local cand path
    for cand in ${WS_PYTHON3:-} python3 python3.13 python3.12 python3.11; do
        path=$(command -v "$cand" 2>/dev/null) || continue
        if "$path" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
            # Through a pyenv shim, name the interpreter behind it.
            "$path" -c 'import sys; print(sys.executable)'
            return 0
        fi
    done
    return 1
}

install_py2() {
    local want py2 boot=$PEERS/py2-bootstrap env=$PEERS/py2 venv
    want=$(hash_of "$CONF/requirements-py2.txt" "$CONF/requirements-py2-bootstrap.txt")
    if is_current "$env" "$want" && "$env/bin/python" -c 'import autobahntestsuite' 2>/dev/null; then
        say "py2: Autobahn|Testsuite up to date ($env/bin/wstest)"
        return 0
    fi
    py2=$(find_python2) || die "no Python 2.7 found (Autobahn|Testsuite needs it): looked at" \
        "\$WS_PYTHON2, \$(pyenv root)/versions/2.7.*/bin/python2.7 and python2.7 on PATH." \
        "Install one (e.g. 'pyenv install 2.7.18') or set WS_PYTHON2=/path/to/python2.7"
    say "py2: using $py2"
    # pip on 2.7 warns on every call that 2.7 is past its end of life (pip >= 20 reads this;
    # the older pip that comes with 2.7 is run with -qq instead).
    export PIP_NO_PYTHON_VERSION_WARNING=1
    "$py2" -m pip --version >/dev/null 2>&1 ||
        die "$py2 has no pip (try '$py2 -m ensurepip')"
    rm -rf "$env" "$boot"
    if "$py2" -m virtualenv --version >/dev/null 2>&1; then
        venv=("$py2" -m virtualenv)
    else
        say "py2: installing virtualenv into $boot"
        "$py2" -m pip install -qq --disable-pip-version-check --no-warn-script-location \
            --target "$boot" -r "$CONF/requirements-py2-bootstrap.txt"
        venv=(env PYTHONPATH="$boot" "$py2" -m virtualenv)
    fi
    "${venv[@]}" --quiet --no-periodic-update --app-data "$PEERS/virtualenv-app-data" "$env"
    say "py2: installing Autobahn|Testsuite (pins in $CONF/requirements-py2.txt)"
    "$env/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$CONF/requirements-py2.txt"
    "$env/bin/python" -c 'import autobahntestsuite' || die "py2: autobahntestsuite does not import"
    echo "$want" >"$env/.weir-stamp"
    say "py2: installed $env/bin/wstest"
}

install_py3() {
    local want py3 env=$PEERS/py3
    want=$(hash_of "$CONF/requirements-py3.txt")
    if is_current "$env" "$want" && "$env/bin/python" -c 'import websockets, h2, httpx' 2>/dev/null; then
        say "py3: websockets, h2 and httpx up to date ($env/bin/python)"
        return 0
    fi
    py3=$(find_python3) || die "no Python >= 3.11 found (websockets needs it); set WS_PYTHON3"
    say "py3: using $py3"
    rm -rf "$env"
    "$py3" -m venv "$env"
    "$env/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$CONF/requirements-py3.txt"
    echo "$want" >"$env/.weir-stamp"
    say "py3: installed $("$env/bin/python" -c 'import websockets, h2, httpx; print("websockets", websockets.__version__, "h2", h2.__version__, "httpx", httpx.__version__)')"
}

install_node() {
    local want dir=$PEERS/node
    want=$(hash_of "$CONF/node/package.json")
    if is_current "$dir" "$want" && [[ -f $dir/node_modules/ws/package.json ]]; then
        say "node: ws up to date ($dir/node_modules/ws)"
        return 0
    fi
    command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 ||
        die "node and npm are needed for the npm ws peer (tests/ws_interop_node.rs):" \
            "install Node.js (Debian: apt-get install nodejs npm)"
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$CONF/node/package.json" "$dir/package.json"
    (cd "$dir" && npm install --silent --no-audit --no-fund --no-update-notifier) ||
        die "node: npm install of ws failed (tests/ws_interop_node.rs needs it)"
    echo "$want" >"$dir/.weir-stamp"
    say "node: installed ws $(node -p "require('./$dir/node_modules/ws/package.json').version")"
}

check() {
    is_current "$PEERS/py2" "$(hash_of "$CONF/requirements-py2.txt" "$CONF/requirements-py2-bootstrap.txt")" &&
        is_current "$PEERS/py3" "$(hash_of "$CONF/requirements-py3.txt")" &&
        is_current "$PEERS/node" "$(hash_of "$CONF/node/package.json")"
}

case ${1:-} in
install)
    mkdir -p "$PEERS"
    install_py2
    install_py3
    install_node
    ;;
check)
    check
    ;;
*)
    echo "usage: $0 install|check" >&2
    exit 2
    ;;
esac
