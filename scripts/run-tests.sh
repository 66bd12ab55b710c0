#!/usr/bin/env bash
# Runs every test of the project: all .NET test projects and the Python training tests.
# Ends with the line "N passed, N failed" summed over all of them (CI reads that line), after a "N skipped" line.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
results="$root/.build/test-results"
rm -rf "$results"
mkdir -p "$results"
status=0

# .NET: one run over the solution; each test assembly writes one TRX file.
if ! dotnet build XrfEdge.sln -c Release --nologo -v quiet -clp:ErrorsOnly; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
dotnet test XrfEdge.sln -c Release --no-build --nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results/dotnet" \
  -- RunConfiguration.TestSessionTimeout=1500000 || status=1

# Python (training pipeline): Debian's interpreter, which has torch/onnx/xraylib.
if [ -d training/tests ]; then
  (cd training && /usr/bin/python3 -m pytest -q -p no:cacheprovider --junitxml="$results/pytest.xml" tests)
  rc=$?
  # pytest exit 5 = no tests collected: not a failure of the suite, but say so.
  if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then status=1; fi
fi

passed=0; failed=0; skipped=0
for trx in "$results"/dotnet/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
done
if [ -f "$results/pytest.xml" ]; then
  suite=$(grep -o '<testsuite [^>]*>' "$results/pytest.xml" | head -n 1)
  t=$(sed -n 's/.* tests="\([0-9]*\)".*/\1/p' <<<"$suite")
  f=$(sed -n 's/.* failures="\([0-9]*\)".*/\1/p' <<<"$suite")
  e=$(sed -n 's/.* errors="\([0-9]*\)".*/\1/p' <<<"$suite")
  s=$(sed -n 's/.* skipped="\([0-9]*\)".*/\1/p' <<<"$suite")
  failed=$((failed + ${f:-0} + ${e:-0})); skipped=$((skipped + ${s:-0}))
  passed=$((passed + ${t:-0} - ${f:-0} - ${e:-0} - ${s:-0}))
fi
if [ $status -ne 0 ] && [ $failed -eq 0 ]; then failed=1; fi
# CI keeps only the tail of this output: name every failed test and the first lines of its message here, last.
if [ $failed -ne 0 ]; then
  /usr/bin/python3 - "$results" <<'PY' || true
import glob, sys, xml.etree.ElementTree as ET
results = sys.argv[1]
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for trx in sorted(glob.glob(f"{results}/dotnet/*.trx")):
    for r in ET.parse(trx).getroot().iterfind(".//t:UnitTestResult", ns):
        if r.get("outcome") == "Failed":
            message = r.findtext(".//t:Message", "", ns).strip().splitlines()
            print(f"FAILED {r.get('testName')} [{r.get('duration')}]: " + " | ".join(message[:4])[:600])
try:
    for case in ET.parse(f"{results}/pytest.xml").getroot().iter("testcase"):
        for bad in list(case.iter("failure")) + list(case.iter("error")):
            print(f"FAILED {case.get('classname')}::{case.get('name')}: {(bad.get('message') or '')[:600]}")
except (FileNotFoundError, ET.ParseError):
    pass
PY
fi
echo "$skipped skipped"
# The last line is exactly what CI reads: "N passed, N failed".
echo "$passed passed, $failed failed"
exit $status
