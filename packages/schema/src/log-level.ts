import { z } from 'zod';

/** The levels a process can be set to at run time. */
export const LogLevelName = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
export type LogLevelName = z.infer<typeof LogLevelName>;

/** A change of log level: for one component (`planner`, `executor`, `api`, `dev`) or `all`. */
export const LogLevelChange = z.strictObject({
  component: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,31}$/, 'component: planner, executor, api, … or all'),
  level: LogLevelName,
});
export type LogLevelChange = z.infer<typeof LogLevelChange>;
