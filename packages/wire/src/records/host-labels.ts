/**
 * Host labels: `key=value` pairs an agent declares about its host (rack,
 * tenant, zone) in its config, published in its `hosts/<host>` record. A
 * network may admit only hosts that carry one of its `allowedLabels`.
 *
 * Syntax (the Kubernetes label syntax without its optional DNS prefix rules):
 * key 1..63 of letters, digits, ".", "_", "-", "/" starting and ending with a
 * letter or digit; value 0..63 of letters, digits, ".", "_", "-" starting and
 * ending with a letter or digit when not empty.
 */

export const MAX_HOST_LABELS = 32;

const LABEL_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

/** What a bad label looks like in an error message's fix. */
export const LABEL_SYNTAX =
  'key=value: key 1..63 letters, digits, ".", "_", "-", "/"; value 0..63 letters, digits, ".", "_", "-"';

export function isLabelKey(value: unknown): value is string {
  return typeof value === 'string' && LABEL_KEY.test(value);
}

export function isLabelValue(value: unknown): value is string {
  return typeof value === 'string' && LABEL_VALUE.test(value);
}

/** `rack=r1` → { key: 'rack', value: 'r1' }; null when it is not a label. */
export function parseLabel(text: string): { key: string; value: string } | null {
  const eq = text.indexOf('=');
  if (eq < 0) return null;
  const key = text.slice(0, eq);
  const value = text.slice(eq + 1);
  return isLabelKey(key) && isLabelValue(value) ? { key, value } : null;
}

export function isLabelText(value: unknown): value is string {
  return typeof value === 'string' && parseLabel(value) !== null;
}

/** True when `labels` carries `selector` (`key=value`) exactly. */
export function hasLabel(labels: Readonly<Record<string, string>> | undefined, selector: string): boolean {
  const parsed = parseLabel(selector);
  return (
    parsed !== null && labels !== undefined && Object.hasOwn(labels, parsed.key) && labels[parsed.key] === parsed.value
  );
}
