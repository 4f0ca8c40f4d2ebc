#!/usr/bin/env bash
# Installs from Debian's packages, and only where missing, what napo-tracker needs.
#
#   scripts/system-deps.sh run    Python's venv module; Pango and HarfBuzz for WeasyPrint's PDFs;
#                                 local fonts (the PDFs load nothing from the network)
#   scripts/system-deps.sh test   the above, plus a PostgreSQL server (the tests start a throwaway
#                                 cluster), Redis (a throwaway redis-server: jobs, shared limits and
#                                 the deployment test), Chromium (browser tests), poppler-utils (PDF pages)
#                                 and npm (axe-core, the browser tests' accessibility check)
#   scripts/system-deps.sh bench  the "run" packages, plus wrk (the throughput benchmark's load generator)
#                                 and a PostgreSQL server (the scale benchmark starts a throwaway cluster)
#   scripts/system-deps.sh scan   the "run" packages, plus wapiti and sqlmap (make security-scan)
#
# Needs root (or already-installed packages) and apt-get; never downloads a browser itself.
set -euo pipefail

mode="${1:-test}"
missing=()
# Read the linker cache once (ldconfig lives in /sbin, off some users' PATH).
libs="$( (command -v ldconfig >/dev/null && ldconfig -p || /sbin/ldconfig -p) 2>/dev/null || true)"
has_lib() { grep -qF "$1" <<<"$libs"; }

python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
has_lib 'libpango-1.0.so.0' || missing+=(libpango-1.0-0)
has_lib 'libpangoft2-1.0.so.0' || missing+=(libpangoft2-1.0-0)
has_lib 'libharfbuzz-subset.so.0' || missing+=(libharfbuzz-subset0)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ "$mode" = "test" ]; then
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
elif [ "$mode" = "bench" ]; then
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
elif [ "$mode" = "scan" ]; then
  command -v wapiti >/dev/null 2>&1 || missing+=(wapiti)
  command -v sqlmap >/dev/null 2>&1 || missing+=(sqlmap)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
elif [ "$mode" != "run" ]; then
  echo "usage: $0 run|test|bench|scan" >&2
  exit 2
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Please install these Debian packages first (as root): apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "Installing ${missing[*]} from Debian's packages…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
