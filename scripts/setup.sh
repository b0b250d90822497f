#!/usr/bin/env bash
# Set up cliplens on a fresh Debian machine; safe to rerun (each step is skipped when done).
#   bash scripts/setup.sh          # runtime: WordNet, virtual environment, the project
#   bash scripts/setup.sh --dev    # also what the tests need: buf, prometheus, chromium,
#                                  # checkov
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=0
[ "${1:-}" = "--dev" ] && DEV=1
VENV=${CLIPLENS_VENV:-.venv}
PY=${PYTHON:-python3}
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

# 1. WordNet 3.0 from Debian (same offsets as ImageNet wnids).
apt_install wordnet-base wordnet-sense-index

# 2. The virtual environment and the project with its pinned dependencies. torch comes from
#    the package registry (the CUDA build: the only one torchvision loads with; it runs on CPU).
stamp="$VENV/.cliplens-installed"
want="$(sha256sum pyproject.toml | cut -c1-16)-$DEV"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  [ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$PY" -m venv "$VENV"; }
  extras=""; [ $DEV -eq 1 ] && extras="[dev]"
  say "installing cliplens$extras and its pinned dependencies (torch is large: a few minutes)"
  "$VENV/bin/pip" install -q --disable-pip-version-check -e ".$extras" 2>&1 \
    | grep -v "^WARNING: Location" || true
  "$VENV/bin/python" -c "import cliplens.core, torch, torchvision, open_clip" \
    || { say "the install did not complete"; exit 1; }
  echo "$want" > "$stamp"
fi

# 3. NLTK's WordNet directory (private to its owner, as NLTK 3.10 requires) and the
#    lexicon's prepared index.
"$VENV/bin/python" -m cliplens.lexicon.setup

if [ $DEV -eq 1 ]; then
  # 4. Test tools: buf (proto lint), Prometheus + promtool, headless Chromium.
  if [ ! -x .cache/buf/node_modules/.bin/buf ]; then
    say "installing buf"
    mkdir -p .cache/buf
    (cd .cache/buf && npm install --silent --no-fund --no-audit @bufbuild/buf@1.75.0 >/dev/null)
  fi
  apt_install prometheus chromium
  # 5. checkov (deployment scanner, tests/deploy/test_deploy_scanners.py) in an environment of
  #    its own: its dependencies would replace packages the project pins (networkx, packaging).
  CHECKOV=3.3.30
  if [ "$(.cache/checkov/bin/checkov --version 2>/dev/null)" != "$CHECKOV" ]; then
    say "installing checkov $CHECKOV into .cache/checkov"
    "$PY" -m venv .cache/checkov
    .cache/checkov/bin/pip install -q --disable-pip-version-check "checkov==$CHECKOV"
  fi
fi
say "ready"
