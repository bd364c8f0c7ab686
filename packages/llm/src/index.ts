export * from './anthropic-provider';
export * from './guarded-provider';
export * from './llm-call';
export * from './openai-compatible-provider';
export * from './price-table';
export * from './provider';
export * from './retry-after';
export * from './structured-plan';
