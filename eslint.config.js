// One lint setup for the whole monorepo. The data-path boundary is a rule here,
// not a hope: packages/agent/src/datapath/** may import only @dvs/wire, the
// netdev interfaces and its own folder.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const controlPlaneImports = [
  { group: ['etcd3', 'etcd3/*'], message: 'The data path never imports etcd: feed it through apply().' },
  { group: ['node:http', 'http', 'node:https', 'https'], message: 'The data path never imports http.' },
  { group: ['commander'], message: 'The data path never imports commander.' },
  { group: ['msgpackr'], message: 'The data path never decodes control-plane records.' },
  {
    group: ['**/etcd-sync/**', '../etcd-sync', '../etcd-sync/*'],
    message: 'The data path never imports the etcd sync.',
  },
  { group: ['**/admin/**', '../admin', '../admin/*'], message: 'The data path never imports the admin socket.' },
  {
    group: ['@dvs/controller', '@dvs/cli', '@dvs/lab', '@dvs/etcd', '@dvs/etcd/*', '@dvs/admin-client'],
    message: 'The data path imports only @dvs/wire and interfaces.',
  },
];

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/build/**', '**/node_modules/**', 'results/**', '.dvs-lab/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        clearImmediate: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        URL: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['packages/agent/src/datapath/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: controlPlaneImports }],
    },
  },
  {
    files: ['packages/wire/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@dvs/*'], message: 'wire imports nothing of ours.' },
            {
              group: ['node:fs', 'node:net', 'node:dgram', 'node:http', 'fs', 'net', 'dgram', 'http'],
              message: 'wire is pure: no I/O.',
            },
          ],
        },
      ],
    },
  },
);
