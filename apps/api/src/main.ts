import { runProcess } from '@agentry/engine';
import { loadApiConfig } from './config';
import { createApi } from './container';

await runProcess({
  component: 'api',
  loadConfig: loadApiConfig,
  create: async (config, logging) => {
    const app = await createApi(config, { logging });
    return { start: async () => void (await app.start()), close: () => app.close() };
  },
});
