import { constants } from 'node:os';

/** Errno number → symbol (os.constants.errno reversed). */
const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, errno]) => [errno, name]));

/** The symbol of an errno number ('EINVAL'), or `ERRNO<n>` for one Node does not name. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `ERRNO${errno}`;
}
