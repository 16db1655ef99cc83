/**
 * A real libvirt domain on dvs (issue 11 §4): a private libvirtd
 * (test/support/libvirtd.ts) on lab host h1 starts a domain whose NIC is an
 * `<interface type='ethernet'>` with dvs's script, laid out as
 * deploy/qemu/README.md says. Asserted: libvirt creates the TAP and runs
 * dvs-ifup, h1's agent attaches it; the guest (TCG) takes its address and
 * pings a VM on h2 over VXLAN, and is pinged from there; `virsh destroy`
 * runs the dvs-libvirt-hook on release and the port is gone from the agent.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  devicePrefix,
  ensureGuestImage,
  GuestConsole,
  guestKernelCommandLine,
  LAB_GUEST_BOOT_PARAMETERS,
  Lab,
  parsePingSummary,
  pingFromGuest,
  vmMac,
} from '@dvs/lab';
import { DEFAULT_OVERLAY_MTU, type AgentPortView } from '@dvs/wire';
import { waitFor } from '@dvs/test-support';
import { PrivateLibvirtd } from '../support/libvirtd.js';

let lab: Lab | null = null;
let libvirtd: PrivateLibvirtd | null = null;
const GUEST_IP = '192.0.2.60';

before(async () => {
  lab = await Lab.up({
    spec: { hosts: 2, vmsPerHost: 1, kernelHosts: 0, networks: [{ vni: 100, encap: 'vxlan' }] },
  });
});

after(async () => {
  await libvirtd?.stop();
  if (lab) {
    const problems = await lab.down();
    assert.deepEqual(problems, [], 'teardown left something behind');
  }
});

async function portOf(tap: string): Promise<AgentPortView | undefined> {
  const { data } = await lab!.admin('h1').call('ports/show');
  return data.find((p) => p.name === tap);
}

test("a libvirt domain with <interface type='ethernet'> and dvs-ifup: attached, pings across hosts, destroyed, released", async (t) => {
  const l = lab!;
  const tap = `${devicePrefix(l.id)}lv1`;
  libvirtd = await PrivateLibvirtd.start(l.host('h1').netns, l.host('h1').adminSocket!, { [tap]: 100 });
  const image = await ensureGuestImage();
  const consoleSocket = join(libvirtd.dir, 'console.sock');
  const mac = vmMac(l.id, 60);
  const cmdline = `${guestKernelCommandLine({ name: 'lv1', ip: `${GUEST_IP}/24`, mtu: DEFAULT_OVERLAY_MTU })} ${LAB_GUEST_BOOT_PARAMETERS}`;
  const domain = `<domain type='qemu'>
  <name>dvs-${l.id}-lv1</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${image.kernel}</kernel>
    <initrd>${image.initrd}</initrd>
    <cmdline>${cmdline}</cmdline>
  </os>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='ethernet'>
      <mac address='${mac}'/>
      <target dev='${tap}'/>
      <script path='/etc/dvs/dvs-ifup'/>
      <model type='virtio'/>
      <mtu size='${DEFAULT_OVERLAY_MTU}'/>
    </interface>
    <serial type='file'><source path='${join(libvirtd.dir, 'serial.log')}'/><target port='0'/></serial>
    <channel type='unix'>
      <source mode='bind' path='${consoleSocket}'/>
      <target type='virtio' name='dvs.console'/>
    </channel>
    <memballoon model='none'/>
  </devices>
</domain>`;
  const xml = join(libvirtd.dir, 'domain.xml');
  await writeFile(xml, domain);
  const created = libvirtd.virsh(['create', xml]);
  assert.equal(created.status, 0, `virsh create: ${created.stderr}`);

  // libvirt created the TAP in h1's namespace and ran dvs-ifup: the agent attached it.
  const port = await waitFor(`${tap} attached on h1`, async () => (await portOf(tap))?.state === 'up' && portOf(tap));
  assert.equal(port?.kind, 'attach');
  assert.equal(port?.vni, 100);

  const guest = await GuestConsole.connect(consoleSocket, { timeoutMs: 30_000 });
  try {
    await guest.waitReady({ timeoutMs: 120_000 });
    assert.equal((await guest.run('cat /sys/class/net/eth0/address')).trim(), mac);
    const peer = l.state.vms.find((v) => v.host === 'h2')!;
    const out = await pingFromGuest(guest, peer.address, { count: 3 });
    assert.ok(out.received > 0, `domain on h1 -> ${peer.name} on h2: ${JSON.stringify(out)}`);
    const back = await l.exec(peer.name, ['ping', '-n', '-c', '3', '-i', '0.2', '-W', '2', GUEST_IP]);
    assert.ok(parsePingSummary(back.stdout).received > 0, `${peer.name} -> domain:\n${back.stdout}${back.stderr}`);
  } finally {
    guest.close();
  }

  const destroyed = libvirtd.virsh(['destroy', `dvs-${l.id}-lv1`]);
  assert.equal(destroyed.status, 0, destroyed.stderr);
  // The hook's release ran dvs-ifdown: the port left the agent (not merely gone).
  await waitFor(`${tap} released on h1`, async () => (await portOf(tap)) === undefined, 20_000);
  t.diagnostic('libvirtd ran the domain; its hook released the port');
});
