/**
 * MACs in records and keys are canonical text: six lowercase hex pairs joined
 * by colons (`02:00:5e:00:01:0a`), so `etcdctl get --prefix` dumps stay
 * readable and a key sorts the same everywhere. The data path uses 48-bit
 * numbers; these two functions convert at the control-plane boundary.
 */
const MAC_TEXT = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const MAC_MAX = 0xffff_ffff_ffff;

/** True when `text` is a canonical record MAC (lowercase, colon-separated). */
export function isRecordMac(text: unknown): text is string {
  return typeof text === 'string' && MAC_TEXT.test(text);
}

/** 48-bit number → canonical record MAC text. Returns null for a non-integer or out-of-range number. */
export function macToRecordText(mac: number): string | null {
  if (!Number.isInteger(mac) || mac < 0 || mac > MAC_MAX) return null;
  const hex = mac.toString(16).padStart(12, '0');
  return hex.match(/../g)!.join(':');
}

/**
 * Record MAC text → 48-bit number. Accepts upper case and `-` separators as
 * typed by people (`02-00-5E-00-01-0A`); returns null for anything else.
 */
export function macFromRecordText(text: string): number | null {
  const canonical = text.toLowerCase().replaceAll('-', ':');
  if (!MAC_TEXT.test(canonical)) return null;
  return Number.parseInt(canonical.replaceAll(':', ''), 16);
}

/** Canonicalises typed MAC text (`02-00-5E-…` → `02:00:5e:…`); null when it is not a MAC. */
export function canonicalRecordMac(text: string): string | null {
  const mac = macFromRecordText(text);
  return mac === null ? null : macToRecordText(mac);
}
