/**
 * The one error type of the HTTP API; rendered as
 * `{ "error": { "code", "message", "field" } }` with its status (docs/api.md).
 */
export type ApiErrorCode =
  | 'DVS_INVALID_JSON'
  | 'DVS_FIELD_INVALID'
  | 'DVS_FIELD_MISSING'
  | 'DVS_FIELD_UNKNOWN'
  | 'DVS_VNI_OUT_OF_RANGE'
  | 'DVS_ENCAP_UNKNOWN'
  | 'DVS_MAC_INVALID'
  | 'DVS_NOT_FOUND'
  | 'DVS_METHOD_NOT_ALLOWED'
  | 'DVS_NETWORK_EXISTS'
  | 'DVS_NETWORK_NAME_TAKEN'
  | 'DVS_EXTERNAL_VTEP_EXISTS'
  | 'DVS_FDB_NOT_STATIC'
  | 'DVS_CONFLICT'
  | 'DVS_BODY_TOO_LARGE'
  | 'DVS_ETCD_UNAVAILABLE'
  | 'DVS_INTERNAL';

const STATUS: Record<ApiErrorCode, number> = {
  DVS_INVALID_JSON: 400,
  DVS_FIELD_INVALID: 400,
  DVS_FIELD_MISSING: 400,
  DVS_FIELD_UNKNOWN: 400,
  DVS_VNI_OUT_OF_RANGE: 400,
  DVS_ENCAP_UNKNOWN: 400,
  DVS_MAC_INVALID: 400,
  DVS_NOT_FOUND: 404,
  DVS_METHOD_NOT_ALLOWED: 405,
  DVS_NETWORK_EXISTS: 409,
  DVS_NETWORK_NAME_TAKEN: 409,
  DVS_EXTERNAL_VTEP_EXISTS: 409,
  DVS_FDB_NOT_STATIC: 409,
  DVS_CONFLICT: 409,
  DVS_BODY_TOO_LARGE: 413,
  DVS_ETCD_UNAVAILABLE: 503,
  DVS_INTERNAL: 500,
};

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
    this.status = STATUS[code];
  }

  toBody(): { error: { code: ApiErrorCode; message: string; field: string | null } } {
    return { error: { code: this.code, message: this.message, field: this.field } };
  }
}
