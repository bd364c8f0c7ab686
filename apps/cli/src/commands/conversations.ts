import type { Command } from 'commander';
import type { ApiClient } from '../api-client';

/** Placeholder: being written. */
export function conversationCommands(_program: Command, _api: () => ApiClient): void {}
