// The HEALTHCHECK of the agentry images (Dockerfile), also used by docker-compose.yml:
//
//   node /app/docker-healthcheck.mjs worker   planner, executor: /healthz on AGENTRY_HEALTH_PORT (9464)
//   node /app/docker-healthcheck.mjs api      api: /healthz on AGENTRY_API_PORT (8080)
//
// Liveness only (is the event loop answering?), like the kubelet's probe: readiness is /readyz.
// Exits 0 when /healthz answers 2xx within 4 s (HEALTHCHECK --timeout is 5 s), 1 otherwise.
/* global process, console, fetch, AbortSignal -- Node's globals (eslint.config.js sets none for .mjs) */
const ports = {
  worker: ['AGENTRY_HEALTH_PORT', '9464'],
  api: ['AGENTRY_API_PORT', '8080'],
};

const kind = process.argv[2] ?? '';
const target = Object.hasOwn(ports, kind) ? ports[kind] : undefined;
if (target === undefined) {
  console.error('usage: docker-healthcheck.mjs worker|api');
  process.exit(1);
}
const [variable, fallback] = target;
const url = `http://127.0.0.1:${process.env[variable] || fallback}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4_000) });
  if (!res.ok) {
    console.error(`${url}: HTTP ${res.status}`);
    process.exit(1);
  }
} catch (e) {
  console.error(`${url}: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
