# Shared by bin/demo and bin/test: make .venv match uv.lock, installing uv itself if the machine lacks it.
# Needs only python3.11 (with venv) and the package registries; never downloads a Python build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export UV_PYTHON_DOWNLOADS=never
UV_VERSION="0.13.9"

find_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
      command -v "$candidate"
      return
    fi
  done
  echo "xiaodai needs Python 3.11 (python3.11 or python3 on PATH)" >&2
  exit 1
}

ensure_env() {
  local python uv
  python="$(find_python)"
  if command -v uv >/dev/null 2>&1; then
    uv="$(command -v uv)"
  else
    if [ ! -x .tools/bin/uv ]; then
      echo "installing uv $UV_VERSION into .tools/ ..."
      "$python" -m venv .tools
      .tools/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
    fi
    uv="$ROOT/.tools/bin/uv"
  fi
  "$uv" sync --frozen --quiet --python "$python" "$@"
}
