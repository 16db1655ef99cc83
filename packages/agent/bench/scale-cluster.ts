/**
 * The scale benchmark's control plane: a 3-member etcd cluster (@dvs/etcd
 * testing) and two dvs-controller processes on it, with their CPU time and
 * RSS read from /proc, and the leader found through each one's /healthz.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtcdCluster } from '@dvs/etcd/testing';

const CONTROLLER_BIN = fileURLToPath(new URL('../../../controller/bin/dvs-controller.js', import.meta.url));

export interface ControllerProc {
  id: string;
  socket: string;
  child: ChildProcess;
}

export interface ProcStats {
  cpuSeconds: number;
  rssBytes: number;
}

export async function procStats(pid: number): Promise<ProcStats> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, rssBytes: rssKb * 1024 };
}

function healthz(socket: string): Promise<{ leader: boolean } | null> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/healthz', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as { leader: boolean });
        } catch {
          resolve(null);
        }
      });
    });
    req.on('error', () => resolve(null));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export class ScaleControlPlane {
  private constructor(
    readonly etcd: EtcdCluster,
    readonly controllers: ControllerProc[],
    private readonly dir: string,
  ) {}

  static async start(electionTtl: number): Promise<ScaleControlPlane> {
    const etcd = await EtcdCluster.start({ members: 3 });
    await etcd.waitHealthy();
    const dir = await mkdtemp(join(tmpdir(), 'dvs-scale-'));
    const controllers: ControllerProc[] = [];
    for (const id of ['ctl-a', 'ctl-b']) {
      const socket = join(dir, `${id}.sock`);
      const child = spawn(
        process.execPath,
        [
          CONTROLLER_BIN,
          '--etcd',
          etcd.endpoints.join(','),
          '--listen',
          socket,
          '--insecure-local',
          '--id',
          id,
          '--election-ttl',
          String(electionTtl),
          '--log-level',
          'warn',
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      controllers.push({ id, socket, child });
    }
    const plane = new ScaleControlPlane(etcd, controllers, dir);
    await plane.waitLeader(30_000);
    return plane;
  }

  /** The controller that leads now. */
  async waitLeader(timeoutMs: number, except?: ControllerProc): Promise<ControllerProc> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      for (const c of this.controllers) {
        if (c === except || c.child.exitCode !== null) continue;
        if ((await healthz(c.socket))?.leader === true) return c;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no controller leads after ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    for (const c of this.controllers) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await this.etcd.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
