#!/usr/bin/env bash
# Runs the whole test suite three times in a row while two CPU-bound processes
# keep the cores busy, as on a laptop doing other work, and prints each run's
# result and time. Exits non-zero when any run failed.
#   scripts/test-under-load.sh            # builds once, then three runs of ava
#   RUNS=5 HOGS=4 scripts/test-under-load.sh
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
HOGS="${HOGS:-2}"
LOGDIR="$(mktemp -d "${TMPDIR:-/tmp}/pylon-under-load-XXXXXX")"

hogs=()
stop_hogs() { for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null; done; wait 2>/dev/null; }
trap stop_hogs EXIT
for _ in $(seq "$HOGS"); do
  node -e 'for (;;) Math.sqrt(Math.random());' &
  hogs+=("$!")
done
echo "started $HOGS CPU-bound processes: ${hogs[*]}; logs in $LOGDIR"

npm run build --silent || exit 1
failed=0
summary=()
for i in $(seq "$RUNS"); do
  started=$(date +%s)
  node --import=tsx scripts/run-tests.mjs > "$LOGDIR/run-$i.log" 2>&1
  code=$?
  seconds=$(( $(date +%s) - started ))
  # ava's closing lines: "N tests passed", "N tests failed", "N known failures", "N tests skipped"...
  result="$(grep -E '^\s+[0-9]+ (tests?|known failures?|uncaught exceptions?) ' "$LOGDIR/run-$i.log" | sed 's/^ *//' | paste -sd ',' - | sed 's/,/, /g')"
  line="run $i: exit $code, ${seconds}s, ${result:-no summary (see $LOGDIR/run-$i.log)}"
  summary+=("$line")
  echo "$line"
  [ "$code" -eq 0 ] || failed=1
done
echo
echo "under load ($HOGS CPU-bound processes beside the suite):"
printf '  %s\n' "${summary[@]}"
echo "working tree after the runs:"
git status --short | sed 's/^/  /'
exit "$failed"
