import { z } from 'zod';
import { PlanJob } from './jobs';

/** JSON Schemas published for producers in other languages (see `pnpm schemas`). */
export function publishedJsonSchemas(): Record<string, unknown> {
  return {
    'plan-job.schema.json': {
      ...z.toJSONSchema(PlanJob, { io: 'input', target: 'draft-2020-12' }),
      $id: 'https://agentry.dev/schemas/plan-job.schema.json',
      title: 'agentry plan job payload',
      description:
        'Data of a BullMQ job named "plan" on the queue "agentry.plan". Enqueue it with a unique job id; a repeated id is a no-op.',
    },
  };
}
