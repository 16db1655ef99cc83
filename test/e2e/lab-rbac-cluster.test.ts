// The whole system under the production RBAC layout: etcd with authentication
// and deploy/etcd/dvs-rbac.sh's roles, the controller logged in as
// `controller`, each agent as its own `agent-<host>` — once by its own
// password, once over TLS where the client certificate's CN is the user and
// there is no password at all (deploy/etcd/make-certs.sh). Tables still
// converge (VMs ping, a migration reaches the controller's table), and an
// agent's identity cannot touch another host's keys (its reports included)
// or the controller's tables.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Lab, ContinuousPing, migrateVm, runPingMatrix } from '@dvs/lab';

for (const mode of ['password', 'tls-certificate'] as const) {
  describe(`etcd RBAC, identities by ${mode}`, () => {
    let lab: Lab | null = null;

    before(async () => {
      lab = await Lab.up({
        spec: {
          hosts: 2,
          vmsPerHost: 1,
          kernelHosts: 0,
          networks: [{ vni: 100, encap: 'vxlan' }],
          etcdAuth: true,
          etcdTls: mode === 'tls-certificate',
        },
      });
    });

    after(async () => {
      if (lab) assert.deepEqual(await lab.down(), []);
    });

    /** etcdctl in the underlay namespace as `user` (agent-h1, …): its password, or its certificate. */
    async function etcdctlAs(user: string | null, args: string[]) {
      const l = lab!;
      const base = ['etcdctl', '--endpoints', l.state.etcd!.endpoints[0]];
      const tls = l.state.etcd!.tls;
      if (tls) {
        const identity = user ?? 'etcd-1';
        base.push(
          '--cacert',
          tls.ca,
          '--cert',
          join(tls.dir, `${identity}.pem`),
          '--key',
          join(tls.dir, `${identity}-key.pem`),
        );
      } else if (user) {
        base.push('--user', `${user}:${l.state.etcdCredentials!.agents[user.replace(/^agent-/, '')]}`);
      }
      return l.exec('ul', [...base, ...args]);
    }

    test('authentication is on, one identity per host, and agents follow etcd', async () => {
      const credentials = lab!.state.etcdCredentials;
      assert.ok(credentials, 'no credentials recorded');
      if (mode === 'password') {
        assert.deepEqual(Object.keys(credentials.agents).sort(), ['h1', 'h2']);
        assert.notEqual(credentials.agents.h1, credentials.agents.h2, 'each host has its own password');
        const r = await lab!.exec('ul', [
          'etcdctl',
          '--endpoints',
          lab!.state.etcd!.endpoints[0]!,
          '--user',
          `agent-h1:${credentials.agents.h2}`,
          'get',
          '/dvs/v1/fdb/',
          '--prefix',
        ]);
        assert.notEqual(r.code, 0, "h2's password does not log in as agent-h1");
      } else {
        assert.deepEqual(credentials.agents, {}, 'certificates only: no agent password exists');
      }
      assert.equal(lab!.state.agentsUseEtcd, true);
      assert.equal(Boolean(lab!.state.etcd!.tls), mode === 'tls-certificate');
      // No user (the server certificate's CN is no etcd user; no password): nothing.
      const anonymous = await etcdctlAs(null, ['get', '/dvs/v1/fdb/', '--prefix']);
      assert.notEqual(anonymous.code, 0, 'etcd answered an unknown identity');
    });

    test('VMs reach each other through tables the controller wrote', async () => {
      const m = await runPingMatrix(lab!);
      assert.ok(m.ok, JSON.stringify(m.results));
      const fdb = await etcdctlAs('agent-h1', ['get', '/dvs/v1/fdb/100/', '--prefix', '--keys-only']);
      assert.equal(fdb.code, 0, fdb.stderr);
      for (const v of lab!.state.vms)
        assert.match(fdb.stdout, new RegExp(v.mac), `${v.mac} not in the controller's FDB`);
    });

    test("a migration reaches every agent and the controller's table", async () => {
      const ping = new ContinuousPing(lab!.vm('vm2').netns, lab!.vm('vm1').address, 10);
      try {
        await ping.waitForReplies(20, 10_000);
        const r = await migrateVm(lab!, 'vm1', 'h2', { ping, holdMs: 500 });
        for (const o of r.observers) assert.equal(o.final, 'h2', `${o.name}: ${o.final}`);
        assert.notEqual(r.controllerConvergedMs, null, 'the controller table never followed');
        assert.equal(r.flaps, 0);
      } finally {
        await ping.stop();
      }
    });

    test("an agent's identity cannot write another host's keys nor the tables", async () => {
      for (const key of [
        '/dvs/v1/hosts/h2',
        '/dvs/v1/reports/h2/100/02:00:00:00:00:99',
        '/dvs/v1/reports/100/02:00:00:00:00:99/h1',
        '/dvs/v1/fdb/100/02:00:00:00:00:99',
        '/dvs/v1/flood/100',
      ]) {
        const r = await etcdctlAs('agent-h1', ['put', key, 'x']);
        assert.notEqual(r.code, 0, `${key} was writable by agent-h1`);
        assert.match(r.stderr, /permission denied/);
      }
    });
  });
}
