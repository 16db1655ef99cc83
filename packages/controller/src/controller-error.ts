/**
 * Why the controller did not start: bad options (exit 2), a keyspace it must
 * not serve as it is (DVS_KEYSPACE_LAYOUT, exit 2: the message names the
 * command that fixes it), or a listen failure.
 */
export class ControllerError extends Error {
  override readonly name = 'ControllerError';
  constructor(
    readonly code: 'DVS_CONFIG_INVALID' | 'DVS_LISTEN_FAILED' | 'DVS_KEYSPACE_LAYOUT',
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}
