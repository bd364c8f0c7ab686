// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const apps = ['@agentry/planner', '@agentry/executor', '@agentry/api', '@agentry/cli'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '.agentry/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'off',
    },
  },
  {
    // Import boundaries: packages never import apps, and never reach into another package's files.
    files: ['packages/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: apps.flatMap((a) => [a, `${a}/*`]),
              message: 'packages must never import apps',
            },
            { group: ['**/apps/**'], message: 'packages must never import apps' },
            { group: ['@agentry/*/src/*'], message: 'import a package by its name, not its files' },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@agentry/*/src/*'], message: 'import a package by its name, not its files' },
            {
              group: ['../../*/src/*', '../../../*/src/*'],
              message: "apps do not import each other's files",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
