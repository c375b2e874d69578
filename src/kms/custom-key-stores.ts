/**
 * KMS custom key stores of type AWS_CLOUDHSM on PKCS#11 tokens. The "cluster" is a configured HSM
 * (TRENT_HSMS: module path + token label) named by CloudHsmClusterId; KeyStorePassword is the token's
 * crypto-user PIN, kept sealed by the barrier. Store state and errors follow AWS (aws-api.md §1,
 * CustomKeyStoreInvalidStateException's documented conditions). No HTTP and no PKCS#11 here: the HSM
 * is reached through the Hsm port (src/hsm/hsm.ts), opened by the function app.ts injects.
 */
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { isX509CertificatePem } from '../crypto/x509.ts';
import {
  CloudHsmClusterInUseException,
  CloudHsmClusterNotFoundException,
  CloudHsmClusterNotRelatedException,
  ConflictException,
  CustomKeyStoreHasCMKsException,
  CustomKeyStoreInvalidStateException,
  CustomKeyStoreNameInUseException,
  CustomKeyStoreNotFoundException,
  IncorrectTrustAnchorException,
  LimitExceededException,
  UnsupportedOperationException,
  ValidationException,
} from '../errors/errors.ts';
import type { Hsm } from '../hsm/hsm.ts';
import type { Barrier } from '../seal/barrier.ts';
import { DuplicateError, type Scope, type Storage } from '../storage/storage.ts';
import { CustomKeyStoreConnections, passwordAad } from './custom-key-store-connections.ts';
import { connectionStateOf, recordFromStore, storeFromRecord, type CustomKeyStore, type CustomKeyStoreDoc } from './custom-key-store-model.ts';
import { keyFromRecord } from './key-model.ts';
import type { PaginationMarkers } from './markers.ts';

/** AWS quota: custom key stores per account and Region. */
export const MAX_CUSTOM_KEY_STORES = 10;
const UPDATE_ATTEMPTS = 8;

export interface CustomKeyStoreDeps {
  storage: Storage;
  barrier: Barrier;
  clock: Clock;
  connections: CustomKeyStoreConnections;
  markers: PaginationMarkers;
}

export interface CreateCustomKeyStoreInput {
  name: string;
  type?: 'AWS_CLOUDHSM' | 'EXTERNAL_KEY_STORE';
  clusterId?: string;
  trustAnchorCertificate?: string;
  /** The token's user PIN; never logged, sealed before it is stored. */
  password?: string;
}

export interface UpdateCustomKeyStoreInput {
  id: string;
  newName?: string;
  password?: string;
  clusterId?: string;
}

export type CustomKeyStoreService = ReturnType<typeof createCustomKeyStoreService>;

/** AWS: KeyStorePassword is the kmsuser's password, 7–32 characters. */
function checkPassword(password: string): void {
  if (password.length < 7 || password.length > 32) {
    throw new ValidationException('KeyStorePassword must be between 7 and 32 characters long.');
  }
}

function newStoreId(): string {
  // AWS: cks- followed by 17 hex digits.
  return `cks-${randomBytesBuffer(9).toString('hex').slice(0, 17)}`;
}

export function createCustomKeyStoreService({ storage, barrier, clock, connections, markers }: CustomKeyStoreDeps) {
  const notFound = () => new CustomKeyStoreNotFoundException('');

  async function load(scope: Scope, id: string): Promise<CustomKeyStore> {
    const r = await storage.read((x) => x.customKeyStores.get(scope, id));
    if (!r) throw notFound();
    return storeFromRecord(r);
  }

  /** Compare-and-set on the store row, re-reading and retrying on a lost race; `mutate` may run again. */
  async function mutate(scope: Scope, id: string, change: (s: CustomKeyStore) => CustomKeyStore): Promise<CustomKeyStore> {
    for (let i = 0; i < UPDATE_ATTEMPTS; i++) {
      const current = await load(scope, id);
      const next = change(current);
      let stored: boolean;
      try {
        stored = await storage.transaction((tx) => tx.customKeyStores.update(recordFromStore(next), current.revision));
      } catch (err) {
        if (err instanceof DuplicateError) {
          // A racing writer took the name or the cluster between our checks and this write.
          if (next.clusterId !== current.clusterId) {
            throw new CloudHsmClusterInUseException(`AWS CloudHSM cluster ${next.clusterId} is already associated with a custom key store.`);
          }
          throw new CustomKeyStoreNameInUseException(`A custom key store with name ${next.name} already exists.`);
        }
        throw err;
      }
      if (stored) return { ...next, revision: current.revision + 1 };
    }
    throw new ConflictException('The custom key store was changed concurrently. Retry the request.');
  }

  function requireCluster(clusterId: string) {
    const cfg = connections.clusterConfig(clusterId);
    if (!cfg) throw new CloudHsmClusterNotFoundException(`AWS CloudHSM cluster ${clusterId} not found.`);
    return cfg;
  }

  async function create(caller: Caller, input: CreateCustomKeyStoreInput): Promise<string> {
    const scope = callerScope(caller);
    const type = input.type ?? 'AWS_CLOUDHSM';
    if (type !== 'AWS_CLOUDHSM') throw new UnsupportedOperationException(`CustomKeyStoreType ${type} is not supported.`);
    const { clusterId, trustAnchorCertificate, password } = input;
    if (clusterId === undefined) throw new ValidationException('CloudHsmClusterId is required for a custom key store of type AWS_CLOUDHSM.');
    if (trustAnchorCertificate === undefined) {
      throw new ValidationException('TrustAnchorCertificate is required for a custom key store of type AWS_CLOUDHSM.');
    }
    if (password === undefined) throw new ValidationException('KeyStorePassword is required for a custom key store of type AWS_CLOUDHSM.');
    checkPassword(password);
    requireCluster(clusterId);
    if (!isX509CertificatePem(trustAnchorCertificate)) {
      throw new IncorrectTrustAnchorException('The trust anchor certificate is not a valid PEM-encoded X.509 certificate.');
    }
    const id = newStoreId();
    const secret = Buffer.from(password, 'utf8');
    const sealedPassword = barrier.seal(secret, passwordAad(scope, id));
    secret.fill(0);
    const doc: CustomKeyStoreDoc = { type, trustAnchorCertificate, desired: 'DISCONNECTED', epoch: 0 };
    const store: CustomKeyStore = { scope, id, name: input.name, clusterId, createdAt: clock.now(), revision: 1, sealedPassword, doc };
    await storage.transaction(async (tx) => {
      // Checked inside the transaction; the unique constraints catch what a racing writer slips past.
      if (await tx.customKeyStores.getByName(scope, input.name)) {
        throw new CustomKeyStoreNameInUseException(`A custom key store with name ${input.name} already exists.`);
      }
      if (await tx.customKeyStores.getByCluster(clusterId)) {
        throw new CloudHsmClusterInUseException(`AWS CloudHSM cluster ${clusterId} is already associated with a custom key store.`);
      }
      const existing = await tx.customKeyStores.list(scope, undefined, MAX_CUSTOM_KEY_STORES);
      if (existing.items.length >= MAX_CUSTOM_KEY_STORES) {
        throw new LimitExceededException(`You have reached the limit of ${MAX_CUSTOM_KEY_STORES} custom key stores in this account and Region.`);
      }
      try {
        await tx.customKeyStores.insert(recordFromStore(store));
      } catch (err) {
        if (err instanceof DuplicateError) throw new CustomKeyStoreNameInUseException(`A custom key store with name ${input.name} already exists.`);
        throw err;
      }
    });
    return id;
  }

  /**
   * AWS: ConnectCustomKeyStore is valid unless the store is DISCONNECTING or FAILED; on a connected
   * store it does nothing. The attempt's outcome shows in DescribeCustomKeyStores (FAILED and a
   * ConnectionErrorCode), not in this call's response, as with AWS's asynchronous connect.
   */
  async function connect(caller: Caller, id: string): Promise<void> {
    const scope = callerScope(caller);
    const store = await load(scope, id);
    const state = connectionStateOf(store);
    if (state === 'FAILED') {
      throw new CustomKeyStoreInvalidStateException(
        `Custom key store ${id} is in the FAILED state. Disconnect it (DisconnectCustomKeyStore), then connect it again.`,
      );
    }
    if (state === 'CONNECTED') return;
    const attempt = await connections.probe(store);
    const epoch = store.doc.epoch + 1;
    let stored: CustomKeyStore;
    try {
      stored = await mutate(scope, id, (s) => {
        if (s.doc.desired !== 'DISCONNECTED') return s; // another node connected it meanwhile
        const { failure: _f, ...rest } = s.doc;
        return { ...s, doc: attempt.ok ? { ...rest, desired: 'CONNECTED', epoch } : { ...rest, desired: 'CONNECTED', epoch, failure: attempt.code } };
      });
    } catch (err) {
      if (attempt.ok) await attempt.hsm.close();
      throw err;
    }
    if (!attempt.ok) return;
    // Keep the connection only if our epoch is the one stored (not when another node won the race).
    if (stored.doc.epoch === epoch && stored.doc.failure === undefined) await connections.adopt(id, epoch, attempt.hsm);
    else await attempt.hsm.close();
  }

  /** AWS: DisconnectCustomKeyStore is invalid on a DISCONNECTED store; it clears a FAILED state. */
  async function disconnect(caller: Caller, id: string): Promise<void> {
    const scope = callerScope(caller);
    await mutate(scope, id, (s) => {
      if (connectionStateOf(s) === 'DISCONNECTED') {
        throw new CustomKeyStoreInvalidStateException(`Custom key store ${id} is already disconnected.`);
      }
      const { failure: _f, ...rest } = s.doc;
      return { ...s, doc: { ...rest, desired: 'DISCONNECTED' } };
    });
    await connections.drop(id);
  }

  async function describe(
    caller: Caller,
    input: { id?: string; name?: string; limit?: number; marker?: string },
  ): Promise<{ stores: CustomKeyStore[]; nextMarker?: string }> {
    const scope = callerScope(caller);
    if (input.id !== undefined || input.name !== undefined) {
      const r = await storage.read((x) => (input.id !== undefined ? x.customKeyStores.get(scope, input.id) : x.customKeyStores.getByName(scope, input.name!)));
      if (!r || (input.name !== undefined && r.name !== input.name)) throw notFound();
      return { stores: [storeFromRecord(r)] };
    }
    const after = markers.decode('DescribeCustomKeyStores', input.marker);
    const page = await storage.read((x) => x.customKeyStores.list(scope, after, input.limit ?? 1000));
    return {
      stores: page.items.map(storeFromRecord),
      ...(page.next !== undefined ? { nextMarker: markers.encode('DescribeCustomKeyStores', page.next) } : {}),
    };
  }

  /**
   * AWS: UpdateCustomKeyStore — a new name while CONNECTED or DISCONNECTED; a new password or cluster
   * only while DISCONNECTED. A new cluster must be "related": here, the same token (module and label)
   * under another configured name, since the store's keys live in that token.
   */
  async function update(caller: Caller, input: UpdateCustomKeyStoreInput): Promise<void> {
    const scope = callerScope(caller);
    if (input.password !== undefined) checkPassword(input.password);
    if (input.clusterId !== undefined) {
      requireCluster(input.clusterId);
      const user = await storage.read((x) => x.customKeyStores.getByCluster(input.clusterId!));
      if (user && user.id !== input.id) {
        throw new CloudHsmClusterInUseException(`AWS CloudHSM cluster ${input.clusterId} is already associated with a custom key store.`);
      }
    }
    await mutate(scope, input.id, (s) => {
      const state = connectionStateOf(s);
      const onlyName = input.password === undefined && input.clusterId === undefined;
      if (state !== 'DISCONNECTED' && !(onlyName && state === 'CONNECTED')) {
        throw new CustomKeyStoreInvalidStateException(
          `Custom key store ${s.id} is ${state}. Only its name can be changed while it is CONNECTED; disconnect it to change anything else.`,
        );
      }
      let next = s;
      if (input.newName !== undefined) next = { ...next, name: input.newName };
      if (input.clusterId !== undefined && input.clusterId !== s.clusterId) {
        const from = connections.clusterConfig(s.clusterId);
        const to = requireCluster(input.clusterId);
        if (!from || from.modulePath !== to.modulePath || from.tokenLabel !== to.tokenLabel) {
          throw new CloudHsmClusterNotRelatedException(`AWS CloudHSM cluster ${input.clusterId} is not related to cluster ${s.clusterId}.`);
        }
        next = { ...next, clusterId: input.clusterId };
      }
      if (input.password !== undefined) {
        const secret = Buffer.from(input.password, 'utf8');
        next = { ...next, sealedPassword: barrier.seal(secret, passwordAad(s.scope, s.id)) };
        secret.fill(0);
      }
      return next;
    });
  }

  /** Keys of a scope that live in the store (any state: AWS counts keys pending deletion too). */
  async function countKeys(scope: Scope, id: string): Promise<number> {
    let after: string | undefined;
    let n = 0;
    for (;;) {
      const page = await storage.read((x) => x.keys.list(scope, after, 1000));
      for (const r of page.items) if (keyFromRecord(r).doc.customKeyStoreId === id) n++;
      if (page.next === undefined) return n;
      after = page.next;
    }
  }

  /** AWS: DeleteCustomKeyStore — only when DISCONNECTED, and only without KMS keys in it. */
  async function remove(caller: Caller, id: string): Promise<void> {
    const scope = callerScope(caller);
    const store = await load(scope, id);
    if (connectionStateOf(store) !== 'DISCONNECTED') {
      throw new CustomKeyStoreInvalidStateException(`Custom key store ${id} must be disconnected before it can be deleted.`);
    }
    if ((await countKeys(scope, id)) > 0) {
      throw new CustomKeyStoreHasCMKsException(
        `Custom key store ${id} contains KMS keys. Schedule the deletion of every KMS key in it and wait for them to be deleted first.`,
      );
    }
    const deleted = await storage.transaction((tx) => tx.customKeyStores.delete(scope, id, store.revision));
    if (!deleted) throw new ConflictException('The custom key store was changed concurrently. Retry the request.');
    await connections.drop(id);
  }

  /**
   * The HSM of a store for a key or GenerateRandom on this node, or undefined when the store is not
   * CONNECTED (or this node cannot connect: the failure is then recorded for every node to see).
   */
  async function hsmOf(scope: Scope, id: string): Promise<{ store: CustomKeyStore; hsm?: Hsm }> {
    const store = await load(scope, id);
    if (connectionStateOf(store) !== 'CONNECTED') {
      await connections.drop(id);
      return { store };
    }
    const result = await connections.get(store);
    if (result.ok) return { store, hsm: result.hsm };
    await mutate(scope, id, (s) => (s.doc.epoch === store.doc.epoch && s.doc.desired === 'CONNECTED' ? { ...s, doc: { ...s.doc, failure: result.code } } : s));
    return { store };
  }

  /** For CreateKey and GenerateRandom: the store's HSM, or the AWS error for a store that is not connected. */
  async function requireConnected(scope: Scope, id: string): Promise<{ store: CustomKeyStore; hsm: Hsm }> {
    const { store, hsm } = await hsmOf(scope, id);
    if (!hsm) {
      throw new CustomKeyStoreInvalidStateException(
        `Custom key store ${id} is not connected. This operation is valid only when the custom key store ConnectionState is CONNECTED.`,
      );
    }
    return { store, hsm };
  }

  /** Whether storage says the store is CONNECTED (false for a store that does not exist). */
  async function isConnected(scope: Scope, id: string): Promise<boolean> {
    const r = await storage.read((x) => x.customKeyStores.get(scope, id));
    return r !== undefined && connectionStateOf(storeFromRecord(r)) === 'CONNECTED';
  }

  return { create, connect, disconnect, describe, update, remove, hsmOf, requireConnected, isConnected, close: () => connections.closeAll() };
}
