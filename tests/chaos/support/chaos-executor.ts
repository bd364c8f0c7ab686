/**
 * The executor of the chaos suite: the real `createExecutor` under `runProcess`, as
 * `apps/executor/src/main.ts`, with the built-in tools and `http.request` wrapped by
 * {@link withFaults} (worker tag, crash and block faults). Run it as
 * `node --import tsx tests/chaos/support/chaos-executor.ts`.
 */
import { runProcess } from '@agentry/engine';
import {
  builtinTools,
  createExecutor,
  createHmacSigner,
  loadExecutorConfig,
} from '@agentry/executor';
import { withFaults } from './fault-tools';

/** `env://NAME` → the variable's value (the suite only uses env references). */
function envSecret(ref: string): string {
  const value = process.env[ref.replace(/^env:\/\//, '')];
  if (!ref.startsWith('env://') || value === undefined) throw new Error(`unresolvable ${ref}`);
  return value;
}

await runProcess({
  component: 'executor',
  loadConfig: loadExecutorConfig,
  create: (config, logging) => {
    const signingKeyRef = config.webhookSigningKeyRef;
    const tools = builtinTools({
      http: config.http,
      // createExecutor still resolves the reference through the secret store at start, which
      // registers the value with the log scrubber as in production.
      ...(signingKeyRef === undefined
        ? {}
        : { sign: createHmacSigner(() => envSecret(signingKeyRef)) }),
    });
    return createExecutor(config, {
      logging,
      tools: withFaults(tools, `executor-${process.pid}`),
    });
  },
});
