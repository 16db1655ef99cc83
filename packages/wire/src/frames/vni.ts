// VNI: the 24-bit key of a network. 0 is not a network (RFC 7348 leaves it to
// the operator; dvs reserves it), so the range is 1 .. 2^24-1 everywhere.

export const MIN_VNI = 1;
export const MAX_VNI = 16777215;

export function isValidVni(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= MIN_VNI && n <= MAX_VNI;
}
