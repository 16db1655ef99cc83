import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderFields, renderTable, type Column } from '../src/render/table.js';
import { formatAge, formatCount, formatMs, formatPercent, formatVtep } from '../src/render/format.js';

const ESC = String.fromCharCode(27);

interface Row {
  name: string;
  n: number;
  state: string;
}
const columns: Column<Row>[] = [
  { header: 'NAME', value: (r) => r.name },
  { header: 'N', value: (r) => String(r.n), align: 'right' },
  { header: 'STATE', value: (r) => r.state, tone: (r) => (r.state === 'down' ? 'bad' : 'good') },
];
const rows: Row[] = [
  { name: 'a', n: 1, state: 'up' },
  { name: 'longer-name', n: 12345, state: 'down' },
];

test('columns are padded to the widest cell, two spaces apart, numbers right-aligned, no trailing blanks', () => {
  const text = renderTable(columns, rows);
  assert.equal(text, ['NAME             N  STATE', 'a                1  up', 'longer-name  12345  down'].join('\n'));
  for (const line of text.split('\n')) assert.equal(line, line.trimEnd());
});

test('colours are added after padding, so columns stay aligned; none without color', () => {
  const plain = renderTable(columns, rows, false);
  assert.ok(!plain.includes(`${ESC}[`));
  const colored = renderTable(columns, rows, true);
  assert.ok(colored.includes(`${ESC}[31mdown${ESC}[39m`));
  assert.equal(colored.replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), ''), plain);
});

test('an empty table is its header', () => {
  assert.equal(renderTable(columns, []), 'NAME  N  STATE');
});

test('fields align their values', () => {
  assert.equal(
    renderFields([
      ['a', '1'],
      ['longer', '2'],
    ]),
    'a:       1\nlonger:  2',
  );
});

test('small formats', () => {
  assert.equal(formatVtep({ address: '192.0.2.1', port: 4789 }), '192.0.2.1:4789');
  assert.equal(formatVtep({ address: '2001:db8::1', port: 4789 }), '[2001:db8::1]:4789');
  assert.equal(formatAge(5_000), '5s');
  assert.equal(formatAge(600_000), '10m');
  assert.equal(formatAge(3 * 3600_000), '3h');
  assert.equal(formatAge(3 * 86400_000), '3d');
  assert.equal(formatAge(-1), '-');
  assert.equal(formatMs(0.256), '0.26');
  assert.equal(formatMs(null), '-');
  assert.equal(formatPercent(0), '0%');
  assert.equal(formatPercent(2.5), '2.5%');
  assert.equal(formatPercent(100), '100%');
  assert.equal(formatCount(9999), '9999');
  assert.equal(formatCount(25_000), '25.0k');
  assert.equal(formatCount(1_500_000), '1.5M');
});
