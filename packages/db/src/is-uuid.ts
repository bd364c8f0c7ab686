const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID's text form; lets lookups answer "not found" instead of a Postgres cast error. */
export const isUuid = (value: string): boolean => uuidPattern.test(value);
