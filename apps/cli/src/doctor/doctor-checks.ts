import { queueNames } from '@agentry/schema';
import { acrossServers } from './across-servers';
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
import { toolsCheck } from './check-tools';
import type { DoctorCheck } from './doctor-check';

/** Every check `agentry doctor` runs, in the order it prints them. */
export function doctorChecks(options: QueueCheckOptions = {}): DoctorCheck[] {
  return [
    acrossServers(redisVersionCheck),
    acrossServers(evictionPolicyCheck),
    acrossServers(persistenceCheck),
    acrossServers(memoryCheck),
    postgresCheck,
    migrationsCheck,
    ...Object.values(queueNames).map((name) => queueCheck(name, options)),
    deadLettersCheck,
    secretsCheck,
    toolsCheck,
    clockSkewCheck,
  ];
}
