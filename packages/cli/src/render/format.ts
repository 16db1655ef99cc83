/** Small text formats shared by the views. Pure; `now` is passed in. */
import type { Tone } from './table.js';

export function formatVtep(vtep: { address: string; port: number }): string {
  return vtep.address.includes(':') ? `[${vtep.address}]:${vtep.port}` : `${vtep.address}:${vtep.port}`;
}

/** Compact age: 45s, 12m, 3h, 2d. Negative or NaN → "-". */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** "12s ago" for a past epoch-ms time. */
export function formatSince(at: number, now: number): string {
  return at > 0 ? `${formatAge(now - at)} ago` : '-';
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0);
}

export function formatPercent(pct: number | null | undefined): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return '-';
  return `${pct < 10 && pct > 0 ? pct.toFixed(1) : pct.toFixed(0)}%`;
}

/** 1234567 → "1.2M"; counters stay readable in narrow columns. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 100_000 ? 1 : 0)}k`;
  if (n < 1_000_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  return `${(n / 1_000_000_000).toFixed(1)}G`;
}

export function stateTone(state: string): Tone | null {
  if (state === 'up' || state === 'ok') return 'good';
  if (state === 'down' || state === 'duplicate') return 'bad';
  if (state === 'init' || state === 'stale') return 'warn';
  if (state === 'unmonitored') return 'dim';
  return null;
}
