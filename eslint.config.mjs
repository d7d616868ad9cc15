// STYLE §8: type-aware rules for promises and exhaustive switches, and no import cycles.
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '**/node_modules/**', 'coverage/**', 'eslint.config.mjs', 'jest.config.js', 'scripts/**/*.js', 'test/interop/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      'import-x/no-cycle': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // STYLE §1: no app imports another app, and libs import no app; inside the gateway, the public
      // revocation and SET push endpoints and the Management API share only connections/, logouts/ and signing/.
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            { target: './libs', from: './apps', message: 'a lib never imports an app' },
            { target: './libs/contracts', from: './libs', except: ['./contracts'], message: 'contracts import nothing of ours' },
            ...['gateway', 'session-terminator', 'refresh-token-revoker', 'backchannel-dispatcher', 'log-streamer'].map((app) => ({
              target: `./apps/${app}/src`,
              from: './apps',
              except: [`./${app}`],
              message: 'no app imports another app',
            })),
            { target: './apps/gateway/console', from: './libs', message: 'the console is browser code: it knows the gateway only through /api/v2' },
            { target: './apps/gateway/console', from: './apps/gateway/src', message: 'the console is browser code: it knows the gateway only through /api/v2' },
            { target: './apps/gateway/src/revocation', from: './apps/gateway/src/management', message: 'revocation and management share connections/, logouts/ and signing/' },
            { target: './apps/gateway/src/management', from: './apps/gateway/src/revocation', message: 'revocation and management share connections/, logouts/ and signing/' },
            { target: './apps/gateway/src/ssf', from: './apps/gateway/src/management', message: 'ssf and management share connections/, logouts/ and signing/' },
            { target: './apps/gateway/src/management', from: './apps/gateway/src/ssf', message: 'ssf and management share connections/, logouts/ and signing/' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'libs/testing/**/*.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off', '@typescript-eslint/require-await': 'off' },
  },
);
