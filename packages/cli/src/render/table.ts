/**
 * Aligned plain-text tables: columns padded to their widest cell, two spaces
 * apart, no trailing blanks. Colour is applied after padding (so ANSI codes
 * never shift columns) and only when the caller says the output is a TTY.
 */
export type Tone = 'good' | 'bad' | 'warn' | 'dim';

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  align?: 'left' | 'right';
  tone?: (row: Row) => Tone | null;
}

const ANSI: Record<Tone, [string, string]> = {
  good: ['\x1b[32m', '\x1b[39m'],
  bad: ['\x1b[31m', '\x1b[39m'],
  warn: ['\x1b[33m', '\x1b[39m'],
  dim: ['\x1b[2m', '\x1b[22m'],
};

export function paint(text: string, tone: Tone | null, color: boolean): string {
  if (!color || tone === null) return text;
  const [open, close] = ANSI[tone];
  return open + text + close;
}

export function renderTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[], color = false): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const line = (texts: string[], tones: (Tone | null)[]) =>
    texts
      .map((text, i) => {
        const last = i === texts.length - 1;
        const padded = columns[i].align === 'right' ? text.padStart(widths[i]) : last ? text : text.padEnd(widths[i]);
        return paint(padded, tones[i], color);
      })
      .join('  ')
      .trimEnd();
  const header = line(
    columns.map((c) => c.header),
    columns.map(() => null),
  );
  const body = rows.map((row, r) =>
    line(
      cells[r],
      columns.map((c) => c.tone?.(row) ?? null),
    ),
  );
  return [header, ...body].join('\n');
}

/** `key: value` lines with the values aligned, for one-object views. */
export function renderFields(fields: readonly [string, string][]): string {
  const width = Math.max(0, ...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${(k + ':').padEnd(width + 1)}  ${v}`.trimEnd()).join('\n');
}
