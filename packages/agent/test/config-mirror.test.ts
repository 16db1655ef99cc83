// Port mirrors in the agent's config (config/mirror-config.ts): a static
// SPAN and an RSPAN sink become the data path's MirrorConfig; bad settings
// name the field (the data path's own rules, shared with the controller).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, validateConfig } from '../src/index.js';

const base = {
  host: 'host-a',
  vtep: { address: '198.51.100.1' },
  networks: [{ vni: 100, peers: [] }],
};

function fieldOf(raw: unknown): string {
  try {
    validateConfig(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.field;
  }
  assert.fail('config accepted');
}

test('mirrors and mirror sinks of a static setup', () => {
  const c = validateConfig({
    ...base,
    mirrors: [
      {
        name: 'span1',
        sources: ['tap-vm1'],
        direction: 'ingress',
        srcMac: '02:00:00:00:00:01',
        output: { port: 'tap-span' },
      },
      { name: 'rspan1', vnis: [100], sampleEvery: 10, output: { vni: 9999, vtep: { address: '198.51.100.2' } } },
    ],
    mirrorSinks: [{ vni: 9998, port: 'tap-analyser' }],
  });
  assert.deepEqual(c.mirrors.mirrors[0], {
    name: 'span1',
    sourcePorts: ['tap-vm1'],
    sourceVnis: [],
    direction: 'ingress',
    sampleEvery: 1,
    srcMac: 0x020000000001,
    output: { port: 'tap-span' },
  });
  assert.deepEqual(c.mirrors.mirrors[1]!.output, {
    vni: 9999,
    encap: 'vxlan',
    vtep: { address: '198.51.100.2', port: 4789 },
  });
  assert.deepEqual(c.mirrors.sinks, [{ vni: 9998, port: 'tap-analyser' }]);
  assert.deepEqual(validateConfig(base).mirrors, { mirrors: [], sinks: [] });
});

test('bad mirrors in the config name the field', () => {
  const m = { name: 'm', sources: ['tap-vm1'], output: { port: 'tap-span' } };
  assert.equal(fieldOf({ ...base, mirrors: [{ ...m, sampleEvery: 0 }] }), 'mirrors[0].sampleEvery');
  assert.equal(fieldOf({ ...base, mirrors: [{ ...m, output: { port: 'tap-vm1' } }] }), 'mirrors[0].output');
  assert.equal(
    fieldOf({ ...base, mirrors: [{ ...m, output: { vni: 100, vtep: { address: '198.51.100.2' } } }] }),
    'mirrors[0].output.vni',
  );
  assert.equal(fieldOf({ ...base, mirrorSinks: [{ vni: 100, port: 'tap-x' }] }), 'mirrorSinks[0].vni');
  assert.equal(fieldOf({ ...base, mirrors: [{ ...m, direction: 'sideways' }] }), 'mirrors[0].direction');
  assert.equal(fieldOf({ ...base, mirrors: [{ ...m, colour: 'red' }] }), 'mirrors[0].colour');
});
