export * from './fake-aws-secrets-manager';
export * from './fake-vault';
