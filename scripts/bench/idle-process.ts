// A process that only idles: run as `node --import tsx` to measure the tsx loader's own RSS.
setInterval(() => undefined, 60_000);
