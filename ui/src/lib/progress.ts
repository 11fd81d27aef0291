// Progress of a long call on a transport without a progress channel (HTTP): ask `poll` every
// `intervalMs` while `run` is pending, and hand each answer to `onValue` (never after `run`
// settled, and never two polls at once).

export async function withPolling<T, P>(
  run: Promise<T>,
  poll: () => Promise<P>,
  onValue: (value: P) => void,
  intervalMs = 200,
): Promise<T> {
  let settled = false;
  let busy = false;
  const timer = setInterval(() => {
    if (settled || busy) return;
    busy = true;
    poll()
      .then((value) => {
        if (!settled) onValue(value);
      })
      .catch(() => {})
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  try {
    return await run;
  } finally {
    settled = true;
    clearInterval(timer);
  }
}
