import { queueNames } from '@agentry/schema';
import { clockSkewCheck } from './check-clock-skew';
import { deadLettersCheck } from './check-dead-letters';
import { evictionPolicyCheck } from './check-eviction-policy';
import { memoryCheck } from './check-memory';
import { migrationsCheck } from './check-migrations';
import { persistenceCheck } from './check-persistence';
import { postgresCheck } from './check-postgres';
import { queueCheck, type QueueCheckOptions } from './check-queue';
import { redisVersionCheck } from './check-redis-version';
import { secretsCheck } from './check-secrets';
import type { DoctorCheck } from './doctor-check';

/** Every check `agentry doctor` runs, in the order it prints them. */
export function doctorChecks(options: QueueCheckOptions = {}): DoctorCheck[] {
  return [
    redisVersionCheck,
    evictionPolicyCheck,
    persistenceCheck,
    memoryCheck,
    postgresCheck,
    migrationsCheck,
    ...Object.values(queueNames).map((name) => queueCheck(name, options)),
    deadLettersCheck,
    secretsCheck,
    clockSkewCheck,
  ];
}
