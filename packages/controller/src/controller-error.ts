/** Why the controller did not start: bad options (exit 2) or a listen failure. */
export class ControllerError extends Error {
  override readonly name = 'ControllerError';
  constructor(
    readonly code: 'DVS_CONFIG_INVALID' | 'DVS_LISTEN_FAILED',
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}
