/**
 * The one error type of the HTTP API; rendered as
 * `{ "error": { "code", "message", "field" } }` with its status (docs/api.md).
 * The codes and their statuses are part of the API contract in @dvs/wire.
 */
import { API_ERROR_STATUS, type ApiErrorBody, type ApiErrorCode } from '@dvs/wire';

export type { ApiErrorCode };

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
    this.status = API_ERROR_STATUS[code];
  }

  toBody(): ApiErrorBody {
    return { error: { code: this.code, message: this.message, field: this.field } };
  }
}
