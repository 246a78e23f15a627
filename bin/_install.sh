# Shared by bin/test and .ci/run: everything the test suite needs. Python packages from uv.lock with PySpark;
# Java for Spark; Debian's chromium and CJK fonts for the browser tests.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
# .ci/run installs once and then runs two passes side by side: a second `uv sync` while the other pass imports
# its packages could catch them half-replaced, so the passes skip it.
if [ "${XIAODAI_ENV_READY:-}" != 1 ]; then
  ensure_env --extra spark  # PySpark for the engine-parity tests (the demo does without it)
fi

if ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Java 17 for the Spark parity tests ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    echo "the Spark parity tests need Java 17: sudo apt-get install openjdk-17-jre-headless" >&2
    exit 1
  fi
fi

if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium and fonts-noto-cjk for the browser tests ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    echo "browser tests need Debian's chromium and fonts-noto-cjk: sudo apt-get install chromium fonts-noto-cjk" >&2
    exit 1
  fi
fi
export DJANGO_ALLOW_ASYNC_UNSAFE=true
