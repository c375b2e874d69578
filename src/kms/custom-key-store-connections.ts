/**
 * This node's open HSM connections, one per connected custom key store, opened lazily on first use
 * and dropped when storage says the store was disconnected or reconnected (a new epoch). Storage holds
 * the desired state for every node (see custom-key-store-model.ts); this map is only a cache of open
 * session pools, never a source of truth.
 *
 * The PIN is unsealed only to open a connection and zeroed right after; the open Hsm keeps its own
 * copy for re-login while it is open (src/hsm/), zeroed by close().
 */
import type { HsmConfig } from '../config/config.ts';
import { HsmError } from '../errors/errors.ts';
import type { Hsm, HsmOptions } from '../hsm/hsm.ts';
import { isSessionFailure, reportingHealth } from '../hsm/health.ts';
import { barrierAad, BarrierOpenError, type Barrier } from '../seal/barrier.ts';
import type { Scope } from '../storage/storage.ts';
import { connectionErrorOf, type ConnectionErrorCode, type CustomKeyStore } from './custom-key-store-model.ts';

export type OpenHsm = (options: HsmOptions) => Promise<Hsm>;

export interface ConnectionDeps {
  /** Configured HSMs by the name CloudHsmClusterId gives (TRENT_HSMS). */
  hsms: Readonly<Record<string, HsmConfig>>;
  openHsm: OpenHsm;
  barrier: Barrier;
  /**
   * Told the health of each configured HSM (by its TRENT_HSMS name) whenever this node opens or uses it
   * (GET /metrics: trent_hsm_healthy). Must not throw.
   */
  health?: (clusterId: string, healthy: boolean) => void;
}

export type OpenResult = { ok: true; hsm: Hsm } | { ok: false; code: ConnectionErrorCode };

export function passwordAad(scope: Scope, storeId: string): Buffer {
  return barrierAad('kms/custom-key-store-password', scope.accountId, scope.region, storeId);
}

export class CustomKeyStoreConnections {
  readonly #deps: ConnectionDeps;
  readonly #live = new Map<string, { epoch: number; hsm: Promise<OpenResult> }>();

  constructor(deps: ConnectionDeps) {
    this.#deps = deps;
  }

  /** The configured HSM a cluster id names, or undefined. */
  clusterConfig(clusterId: string): HsmConfig | undefined {
    return Object.hasOwn(this.#deps.hsms, clusterId) ? this.#deps.hsms[clusterId] : undefined;
  }

  /**
   * This node's connection to a store that storage says is connected in `store.doc.epoch`: reused when
   * open for that epoch, otherwise (re)opened. A failure says why, as AWS's ConnectionErrorCode.
   */
  async get(store: CustomKeyStore): Promise<OpenResult> {
    const current = this.#live.get(store.id);
    if (current && current.epoch === store.doc.epoch) {
      const result = await current.hsm;
      if (result.ok) return result;
      if (this.#live.get(store.id) === current) this.#live.delete(store.id);
      return result;
    }
    if (current) await this.drop(store.id);
    const entry = { epoch: store.doc.epoch, hsm: this.#open(store) };
    this.#live.set(store.id, entry);
    const result = await entry.hsm;
    if (!result.ok && this.#live.get(store.id) === entry) this.#live.delete(store.id);
    return result;
  }

  /** Opens a connection without keeping it (ConnectCustomKeyStore's check); the caller closes it or hands it to adopt(). */
  probe(store: CustomKeyStore): Promise<OpenResult> {
    return this.#open(store);
  }

  /** Keeps `hsm` as this node's connection to `store` for `epoch`. */
  async adopt(storeId: string, epoch: number, hsm: Hsm): Promise<void> {
    await this.drop(storeId);
    this.#live.set(storeId, { epoch, hsm: Promise.resolve({ ok: true, hsm }) });
  }

  /** Closes this node's connection to a store, if any. */
  async drop(storeId: string): Promise<void> {
    const entry = this.#live.get(storeId);
    if (!entry) return;
    this.#live.delete(storeId);
    const result = await entry.hsm;
    if (result.ok) await result.hsm.close();
  }

  async closeAll(): Promise<void> {
    for (const id of [...this.#live.keys()]) await this.drop(id);
  }

  async #open(store: CustomKeyStore): Promise<OpenResult> {
    const cfg = this.clusterConfig(store.clusterId);
    if (!cfg) return { ok: false, code: 'CLUSTER_NOT_FOUND' };
    let pin;
    try {
      pin = this.#deps.barrier.unseal(store.sealedPassword, passwordAad(store.scope, store.id));
    } catch (err) {
      // A sealed barrier propagates (503); a password that does not open is a corrupt row.
      if (err instanceof BarrierOpenError) return { ok: false, code: 'INTERNAL_ERROR' };
      throw err;
    }
    try {
      const hsm = await this.#deps.openHsm({ modulePath: cfg.modulePath, tokenLabel: cfg.tokenLabel, pin });
      const health = this.#deps.health;
      return { ok: true, hsm: health ? reportingHealth(hsm, (healthy) => health(store.clusterId, healthy)) : hsm };
    } catch (err) {
      if (isSessionFailure(err)) this.#deps.health?.(store.clusterId, false);
      if (err instanceof HsmError) return { ok: false, code: connectionErrorOf(err.failure) };
      return { ok: false, code: 'INTERNAL_ERROR' };
    } finally {
      pin.zeroize();
    }
  }
}
