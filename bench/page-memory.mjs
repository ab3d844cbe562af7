// Memory of a benchmarked page, read the same way for Outpost and the automerge-repo anchor: the
// JS heap after a forced collection (what stays) plus the wasm memory the page's probe keeps in
// `window.__bench.memory` (a WebAssembly.Memory).
import { round2 } from './anchor/stats.mjs';

const mb = (bytes) => round2(bytes / 2 ** 20);

/** { js_heap_mb, wasm_mb, total_mb } of `page`, through a CDP session on `context`. */
export async function pageMemory(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const heap = metrics.find((m) => m.name === 'JSHeapUsedSize').value;
  const wasm = await page.evaluate(() => window.__bench.memory?.buffer.byteLength ?? 0);
  await cdp.detach();
  return { js_heap_mb: mb(heap), wasm_mb: mb(wasm), total_mb: mb(heap + wasm) };
}
