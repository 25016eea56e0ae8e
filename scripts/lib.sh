# Shared by scripts/run, scripts/test and bench/run: the Debian packages each needs, and
# the one way they are installed (only what is missing, so a second run starts at once).

BUILD_PACKAGES=(
  g++ cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsodium-dev libssl-dev libsqlite3-dev libpq-dev
  libcli11-dev libfmt-dev libtomlplusplus-dev libutf8proc-dev
  libp11-kit-dev libzxcvbn-dev libqrencode-dev
  libcbor-dev
  libhpdf-dev fonts-dejavu-core
  openssl
)

TEST_PACKAGES=(
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  postgresql-15 curl
  clang-14 libclang-rt-14-dev
  softhsm2
  oathtool
  sqlite3
  chromium
  sqlmap
  poppler-utils
)

BENCH_PACKAGES=(wrk libbenchmark-dev curl)

# ensure_packages PKG...: installs the packages that are not installed yet.
ensure_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "medvault: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# ensure_npm: Node and npm for the test tools (the machine's own, or Debian's).
ensure_npm() {
  if ! command -v npm >/dev/null 2>&1; then
    ensure_packages nodejs npm
  fi
}
