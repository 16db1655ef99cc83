/**
 * Leader election over etcd3's Election (`election/controller/<lease>` under
 * the prefix, value = controller id). Only the leader computes and writes
 * tables. Every leader write is a transaction that first checks this
 * replica's campaign key still exists: once its lease is gone (expired while
 * it was partitioned or paused, or resigned) the key is gone too, so a deposed
 * leader's late write is refused by etcd instead of overwriting the new
 * leader's state.
 */
import { EventEmitter } from 'node:events';
import { CONTROLLER_ELECTION_NAME, type KeyLayout } from '@dvs/wire';
import type { Campaign, Etcd3 } from 'etcd3';
import type { Logger } from '../log.js';

export interface LeadershipEvents {
  'leader:elected': [];
  'leader:lost': [reason: string];
}

export interface LeadershipOptions {
  id: string;
  /** TTL of the campaign lease in seconds: how long a dead leader holds the role (default 10). */
  ttlSeconds: number;
  /** Wait before campaigning again after losing the campaign (default 1000 ms). */
  retryMs?: number;
}

export class Leadership extends EventEmitter<LeadershipEvents> {
  private campaign: Campaign | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private key: string | null = null;
  private leader = false;
  /** Campaign keys of our earlier, failed campaigns (their lease may still live in etcd). */
  private readonly staleKeys = new Set<string>();

  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly options: LeadershipOptions,
    private readonly log: Logger,
  ) {
    super();
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** The etcd key every leader transaction must find existing; null when not leader. */
  get guardKey(): string | null {
    return this.leader ? this.key : null;
  }

  start(): void {
    if (this.stopped || this.campaign !== null) return;
    const election = this.client
      .namespace(this.keys.prefix)
      .election(CONTROLLER_ELECTION_NAME, this.options.ttlSeconds);
    const campaign = election.campaign(this.options.id);
    this.campaign = campaign;
    campaign.getCampaignKey().then(
      (key) => {
        if (this.campaign === campaign) this.key = key;
      },
      () => undefined, // the campaign's 'error' says it
    );
    campaign.on('elected', () => {
      if (this.campaign !== campaign) return;
      campaign.getCampaignKey().then(
        (key) => {
          if (this.campaign !== campaign) return;
          this.key = key;
          this.leader = true;
          this.log.info('elected leader', { id: this.options.id, key });
          this.emit('leader:elected');
        },
        (err: Error) => this.fail(campaign, err),
      );
    });
    campaign.on('error', (err: Error) => this.fail(campaign, err));
  }

  /**
   * Called when a guarded write was refused: if our campaign key is gone we
   * were deposed (our lease expired while we could not reach etcd, or an
   * operator removed the key); step down and campaign again.
   */
  async checkStillLeader(): Promise<void> {
    const key = this.key;
    const campaign = this.campaign;
    if (!this.leader || key === null || campaign === null) return;
    const exists = await this.client.get(key).exists();
    if (!exists && this.campaign === campaign) {
      void campaign.resign().catch(() => undefined);
      this.fail(campaign, new Error(`campaign key ${key} is gone: deposed`));
    }
  }

  private fail(campaign: Campaign, err: Error): void {
    if (this.campaign !== campaign) return;
    this.campaign = null;
    const wasLeader = this.leader;
    this.leader = false;
    if (this.key !== null) this.staleKeys.add(this.key);
    this.key = null;
    if (wasLeader) {
      this.log.warn('leadership lost', { id: this.options.id, error: err.message });
      this.emit('leader:lost', err.message);
    } else {
      this.log.debug('campaign failed', { id: this.options.id, error: err.message });
    }
    if (!this.stopped) this.retryTimer = setTimeout(() => void this.restart(), this.options.retryMs ?? 1000);
  }

  /**
   * Campaigns again. Our previous campaign key goes first: after an etcd
   * restart its lease is alive again for a full TTL (etcd refreshes leases on
   * start), and it would otherwise sit ahead of us as a leader nobody runs.
   */
  private async restart(): Promise<void> {
    for (const key of [...this.staleKeys]) {
      try {
        await this.client.if(key, 'Value', '==', this.options.id).then(this.client.delete().key(key)).commit();
        this.staleKeys.delete(key);
      } catch {
        break; // etcd still away: campaigning will fail and bring us back here
      }
    }
    this.start();
  }

  /** Resigns (a standby takes over at once) and stops campaigning. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    const campaign = this.campaign;
    this.campaign = null;
    const wasLeader = this.leader;
    this.leader = false;
    this.key = null;
    if (wasLeader) this.emit('leader:lost', 'stopped');
    if (campaign !== null) {
      await Promise.race([campaign.resign().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    }
  }
}
