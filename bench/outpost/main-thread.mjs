// Every task the page's main thread ran over a stretch of time, from a Chromium trace.
//
// The Long Tasks API only reports tasks over 50 ms, so it cannot tell a 49 ms task from a 5 ms
// one, nor show how close to the budget the work runs. A trace records every task ("RunTask" on
// the renderer's main thread) at microsecond resolution.

const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline'];

/** Starts recording the tasks of `page` (one trace per browser at a time). */
export async function recordTasks(browser, page) {
  await browser.startTracing(page, { categories: CATEGORIES });
  return {
    /** Stops recording; the duration in ms of every task the page's main thread ran. */
    async stop() {
      const { traceEvents } = JSON.parse((await browser.stopTracing()).toString());
      // Several renderer processes may be traced; the page's is the busiest one.
      const busy = new Map();
      const mains = new Set(
        traceEvents
          .filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
          .map((e) => `${e.pid}:${e.tid}`),
      );
      for (const e of traceEvents) {
        const thread = `${e.pid}:${e.tid}`;
        if (e.name === 'RunTask' && e.ph === 'X' && mains.has(thread)) {
          if (!busy.has(thread)) busy.set(thread, []);
          busy.get(thread).push(e.dur / 1000);
        }
      }
      const sum = (xs) => xs.reduce((a, b) => a + b, 0);
      const [tasks] = [...busy.values()].sort((a, b) => sum(b) - sum(a));
      if (!tasks) throw new Error('the trace holds no main-thread tasks for the page');
      return tasks;
    },
  };
}
