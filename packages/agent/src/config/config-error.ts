/**
 * A configuration that cannot run. One error, naming the field and the fix;
 * the agent prints it and exits 2 before starting anything.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'DVS_CONFIG_INVALID';
  constructor(
    /** Dotted path of the offending field (`networks[0].mtu`), or the flag (`--port`). */
    readonly field: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${field}: ${problem}; fix: ${fix}`);
  }
}
