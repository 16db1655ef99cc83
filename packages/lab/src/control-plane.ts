/**
 * The lab's private control plane: etcd and one dvs-controller, both in the
 * underlay namespace on 198.51.100.1 (so agents reach them over the underlay),
 * plus a unix-socket forwarder through which the lab process calls the
 * controller's HTTP API. Skipped, and said so, when the controller is not built.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from './errors.js';
import {
  CONTROLLER_PORT,
  ETCD_CLIENT_PORT,
  ETCD_PEER_PORT,
  etcdMemberAddress,
  namespaceName,
  UNDERLAY_CONTROL_ADDRESS,
  underlayNamespace,
} from './lab-layout.js';
import type { LabRecorder } from './lab-recorder.js';
import { labDir, type EtcdCredentials, type EtcdMember, type RecordedProcess } from './lab-state.js';
import { runCommand } from './command-runner.js';
import { clientCert, etcdctlTlsEnv, etcdTlsFlags, makeLabPki, memberCert, type LabPki } from './etcd-tls.js';
import { connectHostToUnderlay } from './underlay.js';
import { isBuilt, programs } from './programs.js';
import { isRecordedProcessAlive, logTail } from './process-control.js';
import { controllerApiFlags, labControllerClient, makeLabApiCredentials } from './api-credentials.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ControlPlaneOptions {
  /**
   * Turn on etcd authentication with deploy/etcd/dvs-rbac.sh's roles for these
   * agent host ids: the controller and each agent then log in as their own
   * restricted user (each host with its own password, or its own certificate
   * with TLS), so the lab runs under the production RBAC layout.
   */
  rbacHosts?: string[];
  /** TLS with client certificates for these agent host ids (and the controller); CN = etcd user. */
  tlsHosts?: string[];
  /** etcd members: 1 (in the underlay namespace) or 3 (each in its own namespace; needs tlsHosts). */
  etcdNodes?: number;
}

/** The three members of a lab's etcd cluster: name, namespace and underlay address. */
export function etcdMembers(labId: string): EtcdMember[] {
  return [1, 2, 3].map((k) => ({
    name: `etcd-${k}`,
    host: `e${k}`,
    netns: namespaceName(labId, `e${k}`),
    address: etcdMemberAddress(k),
  }));
}

/**
 * Three etcd members, each in its own namespace on the underlay bridge, TLS
 * between peers (peer certificates, peer-client-cert-auth) and to clients.
 */
async function startEtcdCluster(
  recorder: LabRecorder,
  members: readonly EtcdMember[],
  pki: LabPki,
  dataDir: string,
): Promise<RecordedProcess[]> {
  const id = recorder.state.id;
  const initialCluster = members.map((m) => `${m.name}=https://${m.address}:${ETCD_PEER_PORT}`).join(',');
  const out: RecordedProcess[] = [];
  for (const m of members) {
    await recorder.createNamespace(m.netns);
    await connectHostToUnderlay(id, m.host, m.netns, m.address);
  }
  for (const m of members) {
    const own = memberCert(pki, m.name);
    const client = `https://${m.address}:${ETCD_CLIENT_PORT}`;
    const peer = `https://${m.address}:${ETCD_PEER_PORT}`;
    out.push(
      await recorder.spawn({
        role: 'etcd',
        name: m.name,
        argv: [
          'ip',
          'netns',
          'exec',
          m.netns,
          'etcd',
          '--name',
          m.name,
          '--data-dir',
          join(dataDir, m.name),
          '--listen-client-urls',
          client,
          '--advertise-client-urls',
          client,
          '--listen-peer-urls',
          peer,
          '--initial-advertise-peer-urls',
          peer,
          '--initial-cluster',
          initialCluster,
          '--initial-cluster-state',
          'new',
          '--initial-cluster-token',
          `dvl-${id}`,
          '--cert-file',
          own.cert,
          '--key-file',
          own.key,
          '--trusted-ca-file',
          pki.ca,
          '--client-cert-auth',
          '--peer-cert-file',
          own.cert,
          '--peer-key-file',
          own.key,
          '--peer-trusted-ca-file',
          pki.ca,
          '--peer-client-cert-auth',
          '--log-level',
          'warn',
        ],
        logFile: join(labDir(id), `${m.name}.log`),
      }),
    );
  }
  return out;
}

/** Waits until etcd answers inside the underlay namespace. */
async function waitForEtcd(ns: string, endpoint: string, etcd: RecordedProcess, env: NodeJS.ProcessEnv): Promise<void> {
  for (let i = 0; ; i++) {
    const r = await runCommand(['ip', 'netns', 'exec', ns, 'etcdctl', '--endpoints', endpoint, 'endpoint', 'health'], {
      allowFailure: true,
      timeoutMs: 5000,
      env,
    });
    if (r.code === 0) return;
    if (!(await isRecordedProcessAlive(etcd))) {
      throw new LabError(
        'DVS_LAB_COMMAND_FAILED',
        `etcd exited during start; its log:\n${await logTail(etcd.logFile)}`,
      );
    }
    if (i > 100) throw new LabError('DVS_LAB_TIMEOUT', `etcd not healthy at ${endpoint} after 10 s`);
    await sleep(100);
  }
}

/**
 * Runs deploy/etcd/dvs-rbac.sh against the lab's etcd, one identity per host:
 * with TLS by certificate alone (DVS_AUTH=cert), otherwise each host's own
 * password, which the script leaves in the lab directory. Returns them.
 */
async function enableRbac(
  recorder: LabRecorder,
  ns: string,
  endpoint: string,
  hosts: string[],
  env: NodeJS.ProcessEnv,
  tls: boolean,
): Promise<EtcdCredentials> {
  const password = () => randomBytes(12).toString('hex');
  const passwordDir = join(labDir(recorder.state.id), 'etcd-passwords');
  const credentials: EtcdCredentials = { root: password(), controller: password(), agents: {} };
  await runCommand(['ip', 'netns', 'exec', ns, 'bash', programs.rbacScript, ...hosts], {
    timeoutMs: 60_000,
    env: {
      ...env,
      ETCDCTL_ENDPOINTS: endpoint,
      DVS_AUTH: tls ? 'cert' : 'password',
      DVS_PASSWORD_DIR: passwordDir,
      DVS_ROOT_PASSWORD: credentials.root,
      DVS_CONTROLLER_PASSWORD: credentials.controller,
    },
  });
  if (!tls) {
    for (const h of hosts)
      credentials.agents[h] = (await readFile(join(passwordDir, `agent-${h}.password`), 'utf8')).trim();
  }
  await recorder.update((s) => (s.etcdCredentials = credentials));
  return credentials;
}

export async function startControlPlane(
  recorder: LabRecorder,
  progress: (s: string) => void,
  options: ControlPlaneOptions = {},
): Promise<void> {
  if (!isBuilt('controller')) {
    await recorder.noteLimitation(
      `dvs-controller is not built (${programs.controller} missing): agents run with static peers, no etcd tables`,
    );
    return;
  }
  const id = recorder.state.id;
  const dir = labDir(id);
  const ns = underlayNamespace(id);
  const dataDir = join(dir, 'etcd-data');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const members = (options.etcdNodes ?? 1) === 3 ? etcdMembers(id) : null;
  const pki = options.tlsHosts ? await makeLabPki(join(dir, 'pki'), options.tlsHosts, members ?? undefined) : null;
  if (pki) progress('etcd: TLS with client certificates (deploy/etcd/make-certs.sh)');
  const etcdctlEnv: NodeJS.ProcessEnv = { ...process.env, ...(pki ? etcdctlTlsEnv(pki) : {}) };
  let clientUrl: string;
  let etcdProcesses: RecordedProcess[];
  if (members !== null && pki !== null) {
    progress(`etcd: ${members.length} members, each in its own namespace, TLS between peers and to clients`);
    etcdProcesses = await startEtcdCluster(recorder, members, pki, dataDir);
    clientUrl = members.map((m) => `https://${m.address}:${ETCD_CLIENT_PORT}`).join(',');
  } else {
    clientUrl = `${pki ? 'https' : 'http'}://${UNDERLAY_CONTROL_ADDRESS}:${ETCD_CLIENT_PORT}`;
    etcdProcesses = [
      await recorder.spawn({
        role: 'etcd',
        name: 'etcd',
        argv: [
          'ip',
          'netns',
          'exec',
          ns,
          'etcd',
          '--name',
          `dvl-${id}`,
          '--data-dir',
          dataDir,
          '--listen-client-urls',
          clientUrl,
          '--advertise-client-urls',
          clientUrl,
          '--listen-peer-urls',
          `http://127.0.0.1:${ETCD_PEER_PORT}`,
          '--initial-advertise-peer-urls',
          `http://127.0.0.1:${ETCD_PEER_PORT}`,
          '--initial-cluster',
          `dvl-${id}=http://127.0.0.1:${ETCD_PEER_PORT}`,
          '--log-level',
          'warn',
          ...(pki ? etcdTlsFlags(pki) : []),
        ],
        logFile: join(dir, 'etcd.log'),
      }),
    ];
  }
  const etcd = etcdProcesses[0]!;
  await recorder.update(
    (s) =>
      (s.etcd = {
        endpoints: clientUrl.split(','),
        dataDir,
        ...(pki ? { tls: pki } : {}),
        ...(members !== null ? { members } : {}),
      }),
  );
  if (members !== null) await waitForEtcd(ns, clientUrl, etcd, etcdctlEnv);
  let credentials: EtcdCredentials | null = null;
  if (options.rbacHosts) {
    await waitForEtcd(ns, clientUrl, etcd, etcdctlEnv);
    progress('etcd: authentication on, RBAC roles from deploy/etcd/dvs-rbac.sh');
    credentials = await enableRbac(recorder, ns, clientUrl, options.rbacHosts, etcdctlEnv, pki !== null);
  }
  const controllerTls = pki ? clientCert(pki, 'controller') : null;

  const api = await makeLabApiCredentials(join(dir, 'api-pki'));
  progress('controller API: HTTPS with bearer tokens (deploy/api/make-api-certs.sh), every write audited');
  const socketPath = join(dir, 'controller.sock');
  await recorder.spawn({
    role: 'forwarder',
    name: 'controller-forwarder',
    argv: [
      'ip',
      'netns',
      'exec',
      ns,
      process.execPath,
      programs.forwarder,
      socketPath,
      UNDERLAY_CONTROL_ADDRESS,
      String(CONTROLLER_PORT),
    ],
    logFile: join(dir, 'forwarder.log'),
  });
  const controller = await recorder.spawn({
    role: 'controller',
    name: 'controller',
    argv: [
      'ip',
      'netns',
      'exec',
      ns,
      process.execPath,
      programs.controller,
      '--etcd',
      clientUrl,
      '--listen',
      `${UNDERLAY_CONTROL_ADDRESS}:${CONTROLLER_PORT}`,
      '--id',
      `lab-${id}`,
      ...controllerApiFlags(api),
      // With TLS the certificate's CN (controller) is the etcd user; otherwise a password login.
      ...(controllerTls
        ? ['--etcd-ca', pki!.ca, '--etcd-cert', controllerTls.cert, '--etcd-key', controllerTls.key]
        : credentials
          ? ['--etcd-user', 'controller']
          : []),
    ],
    logFile: join(dir, 'controller.log'),
    // The password goes through the environment, never argv (visible in ps).
    ...(credentials && !controllerTls ? { env: { ...process.env, DVS_ETCD_PASSWORD: credentials.controller } } : {}),
  });
  const url = `https://${UNDERLAY_CONTROL_ADDRESS}:${CONTROLLER_PORT}`;
  await recorder.update((s) => (s.controller = { url, socketPath, api }));
  const client = labControllerClient(recorder.state);
  for (let i = 0; ; i++) {
    if (
      await client.health(1000).then(
        (h) => h.status === 'ok',
        () => false,
      )
    )
      return;
    for (const p of [...etcdProcesses, controller]) {
      if (!(await isRecordedProcessAlive(p))) {
        throw new LabError(
          'DVS_LAB_COMMAND_FAILED',
          `${p.name} exited during start; its log:\n${await logTail(p.logFile)}`,
        );
      }
    }
    if (i > 200) throw new LabError('DVS_LAB_TIMEOUT', `controller not healthy at ${url} after 10 s`);
    await sleep(50);
  }
}

/** Creates the lab's networks through the controller API, kernel hosts as external VTEPs of VXLAN networks. */
export async function registerLabNetworks(recorder: LabRecorder, progress: (s: string) => void): Promise<void> {
  const c = recorder.state.controller;
  if (!c?.socketPath) return;
  const client = labControllerClient(recorder.state);
  const kernelVteps = recorder.state.hosts.filter((h) => h.kind === 'kernel').map((h) => h.underlayAddress);
  for (const n of recorder.state.networks) {
    progress(
      `network ${n.name}: VNI ${n.vni}, ${n.encap}${n.encap === 'vxlan' && kernelVteps.length ? `, external VTEPs ${kernelVteps.join(' ')}` : ''}`,
    );
    await client.createNetwork({
      vni: n.vni,
      name: n.name,
      encap: n.encap,
      externalVteps: n.encap === 'vxlan' ? kernelVteps.map((address) => ({ address })) : [],
    });
  }
}
