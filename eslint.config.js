// One lint setup for the whole monorepo. The data-path boundary is a rule here,
// not a hope, and an allowlist, not a list of what we thought of forbidding:
// packages/agent/src/datapath/** imports @dvs/wire, @dvs/netdev (the device
// and socket interfaces, PacketBatch) and files of its own folder. Nothing
// else: not etcd, http, commander or msgpackr, not the etcd sync or the admin
// socket, not a re-export of them through ../index.js, and no dynamic
// import() (test/e2e/lint-boundary.test.ts proves each case fails).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Packages the data path may import; node: built-ins it needs would be listed here too (none today). */
const DATAPATH_ALLOWED = ['@dvs/wire', '@dvs/netdev'];
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** Matches every import source except an allowed package or a file of the same folder ("./fdb.js"). */
const DATAPATH_FORBIDDEN = `^(?!(?:${DATAPATH_ALLOWED.map(escape).join('|')})$)(?!\\./[^/]+$)`;

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
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: DATAPATH_FORBIDDEN,
              message: `The data path imports only ${DATAPATH_ALLOWED.join(', ')} and its own folder: the control plane reaches it through apply().`,
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: 'The data path loads no code at run time: no dynamic import().' },
        { selector: "CallExpression[callee.name='require']", message: 'The data path loads no code with require().' },
      ],
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
