#!/usr/bin/env bash
# Installs what is missing, skipping what is already there:
#   .ci/tools.sh run    what building and running the portal needs (make run, make build)
#   .ci/tools.sh test   that, and what only the tests and benchmarks need (make test, make bench)
# Versions are pinned here, in Cargo.lock (wasm-bindgen), package.json + package-lock.json
# (Tailwind, binaryen; Playwright, Azurite, oidc-provider) and e2e/python/requirements.txt (the
# official Delta Sharing client). Nothing is downloaded from outside the package registries:
# cargo-leptos finds every tool on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

SET=${1:-test}
case "$SET" in
  run | test) ;;
  *) echo "usage: $0 [run|test]" >&2; exit 2 ;;
esac
testing() { [ "$SET" = test ]; }

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;}' Cargo.lock)
say() { printf '==> %s\n' "$*"; }
# `cargo install` at optimisation level $1, without LTO, in parallel codegen units: tools are built
# once per machine, and a clean CI run pays for every minute of it.
install_tool() {
  local opt=$1
  shift
  CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install "$@"
}

apt_missing=()
command -v npm >/dev/null || apt_missing+=(nodejs npm)
command -v pkg-config >/dev/null || apt_missing+=(pkg-config)
# A font for the charts' PNG downloads (the server draws their text).
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || apt_missing+=(fonts-dejavu-core)
if testing; then
  [ -x /usr/bin/chromium ] || apt_missing+=(chromium)
  # LibreOffice Calc (headless, no GUI): e2e tests open the Excel downloads in a second spreadsheet program.
  command -v soffice >/dev/null || apt_missing+=(libreoffice-calc-nogui)
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_missing+=(python3-venv)
  # Postgres (a throwaway cluster per test run), nginx (the load balancer of the replica tests) and
  # wrk (the load generator of make bench).
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_missing+=(postgresql)
  command -v psql >/dev/null || apt_missing+=(postgresql-client)
  [ -x /usr/sbin/nginx ] || apt_missing+=(nginx-light)
  command -v wrk >/dev/null || apt_missing+=(wrk)
  # curl (the concurrent file downloads of make bench).
  command -v curl >/dev/null || apt_missing+=(curl)
fi
if ((${#apt_missing[@]})); then
  say "apt: ${apt_missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${apt_missing[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q " ${CARGO_LEPTOS_VERSION}\$"; then
  say "cargo-leptos ${CARGO_LEPTOS_VERSION}"
  # It only runs other programs (cargo, wasm-bindgen, Tailwind, wasm-opt), so it is not optimised:
  # its own release profile (fat LTO, one codegen unit, swc and gix inside) takes half an hour
  # on 2 cores.
  install_tool 0 cargo-leptos@"${CARGO_LEPTOS_VERSION}" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " ${WASM_BINDGEN_VERSION}\$"; then
  # Without --locked: the crate's own lock names a webpki-roots release the registry lacks.
  say "wasm-bindgen-cli ${WASM_BINDGEN_VERSION}"
  install_tool 1 wasm-bindgen-cli@"${WASM_BINDGEN_VERSION}" --force
fi

# s3s-fs: a real S3 server for the tests (verifies SigV4 signatures and pre-signed URLs as S3 does).
S3S_FS_VERSION=0.14.1
if testing && ! s3s-fs --version 2>/dev/null | grep -q " ${S3S_FS_VERSION}\$"; then
  say "s3s-fs ${S3S_FS_VERSION}"
  install_tool 1 s3s-fs@"${S3S_FS_VERSION}" --features binary --locked
fi

# npm, from the committed lock (it lists every platform's optional packages, so `npm ci` accepts
# it and the install leaves it unchanged). package.json's `dependencies` are what the build needs:
# the Tailwind CLI and binaryen's wasm-opt (Debian's, version 108, corrupts wasm-bindgen's
# externref table and the release bundle then fails to hydrate). Its `devDependencies` are the
# tests': playwright-core (drives Debian's Chromium), Azurite (the Azure Blob server; verifies SAS
# signatures) and oidc-provider. `npm ci` starts from an empty node_modules.
npm_packages=(@tailwindcss/cli tailwindcss binaryen)
npm_ci=(npm ci --no-audit --no-fund --omit=dev)
if testing; then
  npm_packages+=(playwright-core azurite oidc-provider)
  npm_ci=(npm ci --no-audit --no-fund)
fi
if ! node -e "for (const p of process.argv.slice(1)) require('./node_modules/' + p + '/package.json')" "${npm_packages[@]}" 2>/dev/null; then
  say "npm packages (${npm_packages[*]})"
  "${npm_ci[@]}"
fi

# The venv is current when every pinned requirement is installed at exactly its version.
venv_current() {
  local frozen
  frozen=$(.venv/bin/pip freeze 2>/dev/null) || return 1
  while read -r pin; do
    grep -qixF "$pin" <<<"$frozen" || return 1
  done < <(grep -E '^[A-Za-z0-9_.-]+==' e2e/python/requirements.txt)
}
if testing && ! venv_current; then
  say "Python venv with the official delta-sharing client"
  python3 -m venv .venv
  .venv/bin/pip install -q -r e2e/python/requirements.txt
fi
