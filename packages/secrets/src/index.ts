export * from './secret-provider';
export * from './secret-ref';
export * from './secret-store-contract';
export * from './select-key';
