export * from './builtin-templates';
export * from './template';
export * from './template-file';
export * from './template-planner';
