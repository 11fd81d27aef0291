# Sourced by tests/e2e/run.sh and tests/e2e/desktop/run.sh: `bounded SECONDS COMMAND...` runs the
# command in a process group of its own, killed after SECONDS (status 124), and stops that whole
# group (servers, browsers, drivers) if the script exits early: an error, a timeout, Ctrl-C.

BOUNDED_PID=""
bounded_cleanup() {
  if [ -n "$BOUNDED_PID" ]; then
    kill -TERM -- "-$BOUNDED_PID" 2>/dev/null || true
    sleep 1
    kill -KILL -- "-$BOUNDED_PID" 2>/dev/null || true
  fi
}
trap bounded_cleanup EXIT INT TERM

bounded() {
  local seconds="$1" status=0
  shift
  setsid --wait timeout --kill-after=15 "$seconds" "$@" &
  BOUNDED_PID=$!
  wait "$BOUNDED_PID" || status=$?
  BOUNDED_PID=""
  return "$status"
}
