#!/usr/bin/env bash
# Installs the Debian packages StreamAnomaly needs at run time (and, with --test, for the tests),
# when they are missing. Run by ./streamanomaly, ./test.sh and the Docker images; safe to run again.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The packages behind every shared library the native files need (scripts/native-libraries.tsv,
# derived with ldd in a clean Debian 12 root), plus a font for the plots.
mapfile -t runtime_packages < <(awk -F'\t' '!/^#/ && NF >= 2 { print $2 }' "$here/native-libraries.tsv" | sort -u)
runtime_packages+=(fonts-dejavu-core)
test_packages=(
  kcat           # Kafka tests read topics of the embedded broker from another process
  ffmpeg # camera tests: serves a real MJPEG stream over HTTP and backs FfmpegSource
  prometheus     # the scrape test evaluates the Grafana dashboard's queries on a real server
  nodejs npm     # deployment tests: k8s manifests validated offline with npm kubernetes-models
  yamllint       # deployment tests: lints the compose, Prometheus, Helm values and k8s YAML
  chromium        # dashboard test: headless browser driven by Selenium
  chromium-driver # its WebDriver (/usr/bin/chromedriver)
  mosquitto      # MQTT alarm tests: a real broker
  postgresql     # journal tests: line aggregators' state in a real PostgreSQL
)

wanted=("${runtime_packages[@]}")
if [[ "${1:-}" == "--test" ]]; then
  wanted+=("${test_packages[@]}")
fi

missing=()
for pkg in "${wanted[@]}"; do
  # A tool already on PATH under the package's name counts (e.g. npm bundled with a NodeSource
  # nodejs, which conflicts with Debian's npm package).
  if command -v "$pkg" >/dev/null 2>&1; then
    continue
  fi
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "streamanomaly: missing Debian packages: ${missing[*]}" >&2
    echo "  install them as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
else
  as_root=()
fi

echo "streamanomaly: installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq >&2
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
