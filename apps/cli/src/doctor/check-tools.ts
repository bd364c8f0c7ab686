import { loadToolsModule } from '@agentry/executor';
import { fail, pass, type DoctorCheck } from './doctor-check';

/**
 * `AGENTRY_TOOLS_MODULE` loads and every tool in it is one: what the executor, the planner and the
 * API would refuse to start with.
 */
export const toolsCheck: DoctorCheck = {
  name: 'tools',
  async run(ctx) {
    const path = ctx.config.toolsModule;
    if (path === undefined) return pass('built-in tools only (AGENTRY_TOOLS_MODULE unset)');
    try {
      const tools = await loadToolsModule(path);
      const names = tools.map((t) => t.name).join(', ');
      return pass(`${tools.length} tool(s) from ${path} beside the built-ins: ${names}`);
    } catch (e) {
      return fail(
        (e as Error).message,
        'correct the module or AGENTRY_TOOLS_MODULE: an executor, planner or API with this setting does not start',
      );
    }
  },
};
