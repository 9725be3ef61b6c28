// Preloaded into the gateway by npm run bench:soak (node --expose-gc --require): every SOAK_SAMPLE_MS, a full
// garbage collection, then the process's memory. After a full collection the used heap is what is still
// referenced, so a leak shows as a rising line rather than hiding in the sawtooth of collections; heap total
// and external memory say where resident memory that the heap does not explain went.
const every = Number(process.env.SOAK_SAMPLE_MS ?? 10_000);
setInterval(() => {
  global.gc?.();
  const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
  process.stdout.write(`soak-memory ${JSON.stringify({ at: Date.now(), rss, heapTotal, heapUsed, external })}\n`);
}, every).unref();
