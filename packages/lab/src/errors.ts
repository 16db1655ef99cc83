/**
 * Errors the lab raises. Callers match on `code`, never on the message.
 *
 *  - DVS_LAB_NOT_ROOT: the lab needs root (network namespaces, TAP, raw devices).
 *  - DVS_LAB_KERNEL_FEATURE: a kernel feature is missing (tun, veth, bridge, vxlan, netns).
 *  - DVS_LAB_TOOL_MISSING: a program the lab runs is not installed (ip, ping, etcd).
 *  - DVS_LAB_EXISTS / DVS_LAB_NOT_FOUND: a lab with that id is (not) recorded.
 *  - DVS_LAB_BAD_SPEC: invalid up/migrate arguments (names the option).
 *  - DVS_LAB_COMMAND_FAILED: an external command (ip, bridge, …) failed.
 *  - DVS_LAB_TIMEOUT: something did not become ready in time.
 *  - DVS_LAB_UNAVAILABLE: a part of dvs the lab needs is not built (yet).
 */
export type LabErrorCode =
  | 'DVS_LAB_NOT_ROOT'
  | 'DVS_LAB_KERNEL_FEATURE'
  | 'DVS_LAB_TOOL_MISSING'
  | 'DVS_LAB_EXISTS'
  | 'DVS_LAB_NOT_FOUND'
  | 'DVS_LAB_BAD_SPEC'
  | 'DVS_LAB_COMMAND_FAILED'
  | 'DVS_LAB_TIMEOUT'
  | 'DVS_LAB_UNAVAILABLE';

export class LabError extends Error {
  readonly code: LabErrorCode;

  constructor(code: LabErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabError';
    this.code = code;
  }
}

export function isLabError(e: unknown, code?: LabErrorCode): e is LabError {
  return e instanceof LabError && (code === undefined || e.code === code);
}
