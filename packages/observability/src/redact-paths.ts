/**
 * The pino redaction paths every agentry logger applies (censor `[redacted]`). `*.x` covers one
 * level of nesting, e.g. `{ config: { password } }`. Kept in one place so that adding a secret
 * field name protects every process at once.
 */
export const redactPaths: readonly string[] = [
  'password',
  '*.password',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'secretValue',
  '*.secretValue',
  'clientSecret',
  '*.clientSecret',
  'privateKey',
  '*.privateKey',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-api-key"]',
  'databaseUrl',
  '*.databaseUrl',
  'redisUrl',
  '*.redisUrl',
];
