#!/usr/bin/env bash
# Installs the Debian packages Konvert needs and a fresh machine may lack:
#   libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0  WeasyPrint (PDF) with fast font subsetting
#   chromium                                            headless browser for the browser tests
#   poppler-utils                                       pdftoppm, to look at PDFs as images
#   postgresql                                          server binaries for the PostgreSQL tests
#   redis-server                                        the tests of rate limits shared over Redis
#   wapiti openssl                                      `make audit`: the scanner, a certificate
#   python3.11-venv                                     only when Python 3.11 cannot make a venv
# Runs apt-get only when something is missing; needs root (or sudo) the first time.
set -euo pipefail

PYTHON=${PYTHON:-python3.11}
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 chromium poppler-utils postgresql
  redis-server wapiti openssl)
if ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
  packages+=(python3.11-venv)
fi
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing system packages: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
