import { test } from 'node:test';
import assert from 'node:assert/strict';

// Every package's public surface loads from its built index (no reach into src/).
for (const name of ['@dvs/wire', '@dvs/netdev', '@dvs/agent', '@dvs/controller', '@dvs/cli', '@dvs/lab']) {
  test(`${name} loads from its public index`, async () => {
    const mod: unknown = await import(name);
    assert.equal(typeof mod, 'object');
  });
}
