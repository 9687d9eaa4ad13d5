// In-page timing probe, installed with addInitScript before any of the app's code runs, so
// every time below is on the page's own clock (performance.now(), 0 = navigation start).
//
// "Painted" is taken as the first task after the next animation frame: requestAnimationFrame
// runs just before the frame's style/layout/paint, and a MessageChannel message posted from it
// runs right after that frame has been produced.
export function installProbe() {
  const afterPaint = (cb) =>
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => cb(performance.now());
      ch.port2.postMessage(null);
    });
  const state = { firstMessageAt: null, firstMessagePaintedAt: null, watches: [] };
  const rowWithText = (text) => {
    for (const row of document.querySelectorAll('[data-testid=message]')) {
      if (row.textContent.includes(text)) return row;
    }
    return null;
  };
  const check = () => {
    if (state.firstMessageAt === null && document.querySelector('[data-testid=message]')) {
      state.firstMessageAt = performance.now();
      afterPaint((t) => {
        state.firstMessagePaintedAt = t;
      });
    }
    for (const w of state.watches) {
      if (w.seenAt === null && rowWithText(w.text)) {
        w.seenAt = performance.now();
        afterPaint((t) => {
          w.paintedAt = t;
        });
      }
    }
  };
  const start = () => new MutationObserver(check).observe(document.documentElement, { childList: true, subtree: true, characterData: true });
  if (document.documentElement) start();
  else document.addEventListener('readystatechange', start, { once: true });

  window.__parleyBench = {
    state,
    /** Watches for a row containing `text`; `t0` is when the action that makes it started. */
    watch(text, t0 = performance.now()) {
      const w = { text, t0, seenAt: null, paintedAt: null };
      state.watches.push(w);
      check();
      return state.watches.length - 1;
    },
    result(i) {
      return state.watches[i];
    },
  };

  // Enter in the composer: the keydown's own timestamp starts the clock for the next watch.
  document.addEventListener(
    'keydown',
    (e) => {
      if (e.key === 'Enter' && !e.shiftKey && e.target?.dataset?.testid === 'composer-input') {
        const pending = state.watches.find((w) => w.armed && w.t0 === null);
        if (pending) pending.t0 = e.timeStamp;
      }
    },
    true,
  );
  window.__parleyBench.arm = (text) => {
    const w = { text, t0: null, armed: true, seenAt: null, paintedAt: null };
    state.watches.push(w);
    return state.watches.length - 1;
  };
}
