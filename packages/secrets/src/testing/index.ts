export * from './fake-aws-secrets-manager';
export * from './fake-vault';
export * from './fake-vault-types';
