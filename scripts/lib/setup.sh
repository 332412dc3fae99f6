# Shared set-up for scripts/demo and scripts/test: system packages (only those missing), Rust toolchain
# check, models/footage/ONNX Runtime (verified), release build. Sourced, not run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
MIN_RUST=1.85

log() { printf '\033[1m[garim]\033[0m %s\n' "$*" >&2; }

need_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "missing packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})"; exit 1; }
    SUDO=sudo
  fi
  log "installing system packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

check_rust() {
  if ! command -v cargo >/dev/null; then
    log "cargo is not installed. Install Rust (>= $MIN_RUST) with rustup:"
    log "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y && . \"\$HOME/.cargo/env\""
    exit 1
  fi
  local v; v=$(cargo --version | awk '{print $2}')
  if [ "$(printf '%s\n%s\n' "$MIN_RUST" "$v" | sort -V | head -n1)" != "$MIN_RUST" ]; then
    log "cargo $v is too old; garim needs Rust >= $MIN_RUST: run 'rustup update stable'"
    exit 1
  fi
}

GST_PACKAGES=(
  ca-certificates curl unzip python3 python3-pip pkg-config gcc libc6-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools
)

# Printing the data-subject request forms to PDF (crates/forms): headless Chromium and a Korean font.
FORMS_PACKAGES=(chromium fonts-nanum)
# The console test drives that chromium through chromedriver (tests/console.rs).
CONSOLE_PACKAGES=(chromium-driver)

setup() { # extra packages…
  check_rust
  need_packages "${GST_PACKAGES[@]}" "$@"
  scripts/fetch-models
  export GARIM_MODELS_DIR="$ROOT/models"
}
