/** Errors of the datapath providers' management calls (never per frame). Callers match on `code`. */
export type ProviderErrorCode =
  /** The provider that serves the network cannot do this (a trunk port on a kernel network). */
  | 'DVS_DATAPATH_UNSUPPORTED'
  /** The kernel provider cannot run here, or a kernel device could not be made. */
  | 'DVS_DATAPATH_UNAVAILABLE'
  | 'DVS_PORT_EXISTS'
  | 'DVS_PORT_NOT_FOUND'
  | 'DVS_BAD_ARGUMENT';

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
