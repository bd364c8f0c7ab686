import { runProcess } from '@agentry/engine';
import { loadPlannerConfig } from './config';
import { createPlanner } from './container';

await runProcess({
  component: 'planner',
  loadConfig: loadPlannerConfig,
  create: (config, logging) => createPlanner(config, { logging }),
});
