#!/usr/bin/env bash
# Runs StreamAnomaly's whole test suite. Installs the Debian packages the tests need when missing,
# builds the solution (Release) and runs every test project. Extra arguments go to `dotnet test`,
# e.g.  ./test.sh --filter "FullyQualifiedName~Synthetic"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

"$root/scripts/ensure-deps.sh" --test
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build StreamAnomaly.sln -c Release --nologo -clp:ErrorsOnly -v quiet

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# A test that hangs fails after TEST_HANG_TIMEOUT (the blame collector names it and ends its test
# host) instead of holding CI until its time limit; the longest test takes about a minute.
dotnet test StreamAnomaly.sln -c Release --no-build --nologo \
  --blame-hang-timeout "${TEST_HANG_TIMEOUT:-5m}" --blame-hang-dump-type none "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One closing line for CI, summed over the test assemblies ("Passed!  - Failed: 0, Passed: 12, ...").
read -r passed failed skipped < <(awk -F'[:,]' '/(Passed|Failed)! +- Failed:/ {
    for (i = 1; i <= NF; i++) {
      if ($i ~ /Failed$/) f += $(i + 1); if ($i ~ / Passed$/) p += $(i + 1); if ($i ~ /Skipped$/) s += $(i + 1)
    } } END { print p + 0, f + 0, s + 0 }' "$log")
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ $status -ne 0 ]]; then
  exit "$status"
fi
if [[ $passed -eq 0 ]]; then
  echo "test.sh: no test ran" >&2
  exit 1
fi
