import type { Kysely } from 'kysely';
import type { DB } from './db';

/** Placeholder: being written. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ConversationRepository {}

/** Build the {@link ConversationRepository}. */
export function createConversationRepository(_db: Kysely<DB>, _clock: () => Date): ConversationRepository {
  return {};
}
