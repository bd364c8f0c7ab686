#!/usr/bin/env node
import { isAppError, toError } from '@agentry/schema';
import { buildProgram } from './program';

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  const error = toError(e);
  const detail =
    isAppError(error) && error.details?.issues
      ? `\n${JSON.stringify(error.details.issues, null, 2)}`
      : '';
  console.error(`agentry: ${isAppError(error) ? `[${error.code}] ` : ''}${error.message}${detail}`);
  process.exitCode = 1;
}
