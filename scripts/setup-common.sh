# Set-up shared by scripts/run and scripts/test (sourced, not run). Each step installs only
# what is missing, so on a machine that already has everything it costs a few checks.
# Debian packages come from apt-get (through sudo when not root); Rust from rustup, since
# Debian's rustc is older than the workspace's rust-version.

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=""
# apt_install PACKAGE... : installs the Debian packages given, updating the index once.
apt_install() {
    if [ -z "$apt_updated" ]; then
        as_root apt-get update -qq
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# The build: a C compiler and make (bundled SQLite and the CLI's jemalloc are built from
# source), and a Rust toolchain.
ensure_build_tools() {
    local missing=()
    command -v cc >/dev/null || missing+=(gcc libc6-dev)
    command -v make >/dev/null || missing+=(make)
    if ! command -v cargo >/dev/null && ! [ -x "$HOME/.cargo/bin/cargo" ]; then
        command -v curl >/dev/null || missing+=(curl ca-certificates)
    fi
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
    if ! command -v cargo >/dev/null; then
        if ! [ -x "$HOME/.cargo/bin/cargo" ]; then
            curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
                sh -s -- -y --profile minimal --component clippy,rustfmt
        fi
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
}

# ../shared (seeds and gold data) sits beside the repository; the tests and the first-run
# example read it from there.
require_shared() {
    test -d ../shared/seeds || {
        echo "../shared (seeds and gold data) must sit beside the repository" >&2
        exit 1
    }
}

# PostgreSQL's server programs (initdb, pg_ctl): the tests of the PostgreSQL store start a
# throw-away cluster of their own, and fail (never skip) under CI=true without them. Running
# storyline against a PostgreSQL server elsewhere needs nothing installed here.
ensure_postgresql() {
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_install postgresql
}
