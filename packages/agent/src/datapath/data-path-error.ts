/** Errors the data path raises for management calls (never on the hot path). Callers match on `code`. */
export type DataPathErrorCode = 'DVS_PORT_EXISTS' | 'DVS_PORT_NOT_FOUND' | 'DVS_BAD_ARGUMENT' | 'DVS_NO_SOCKET';

export class DataPathError extends Error {
  override readonly name = 'DataPathError';
  constructor(
    readonly code: DataPathErrorCode,
    message: string,
  ) {
    super(message);
  }
}
