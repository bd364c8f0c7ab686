import { runProcess } from '@agentry/engine';
import { loadExecutorConfig } from './config';
import { createExecutor } from './container';

await runProcess({
  component: 'executor',
  loadConfig: loadExecutorConfig,
  create: (config, logging) => createExecutor(config, { logging }),
});
