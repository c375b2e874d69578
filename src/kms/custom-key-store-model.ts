/**
 * The stored shape of a custom key store (the `doc` of a CustomKeyStoreRecord) and its AWS view.
 *
 * Connection state across nodes: storage keeps the *desired* state (CONNECTED after
 * ConnectCustomKeyStore, DISCONNECTED after DisconnectCustomKeyStore) and the last connection failure;
 * each node opens its own HSM session pool lazily on first use (custom-key-store-connections.ts). So
 * ConnectionState is: DISCONNECTED when the desired state is, FAILED when a connection attempt failed
 * (any node's), CONNECTED otherwise. Connect and Disconnect finish within the request, so
 * CONNECTING/DISCONNECTING are never observed.
 */
import type { HsmFailure } from '../errors/errors.ts';
import type { CustomKeyStoreRecord } from '../storage/custom-key-store-repo.ts';
import type { Scope } from '../storage/storage.ts';
import { epochSeconds } from './key-model.ts';

export type ConnectionState = 'CONNECTED' | 'CONNECTING' | 'DISCONNECTED' | 'DISCONNECTING' | 'FAILED';

/** AWS ConnectionErrorCode values Trent can report for a PKCS#11 token. */
export type ConnectionErrorCode =
  | 'INVALID_CREDENTIALS' | 'CLUSTER_NOT_FOUND' | 'NETWORK_ERRORS' | 'INTERNAL_ERROR' | 'INSUFFICIENT_CLOUDHSM_HSMS' | 'USER_LOCKED_OUT';

export interface CustomKeyStoreDoc {
  type: 'AWS_CLOUDHSM';
  trustAnchorCertificate: string;
  desired: 'CONNECTED' | 'DISCONNECTED';
  /** Bumped by every ConnectCustomKeyStore: a node's open connection is valid only for the epoch it was opened in. */
  epoch: number;
  failure?: ConnectionErrorCode;
}

export interface CustomKeyStore {
  scope: Scope;
  id: string;
  name: string;
  clusterId: string;
  createdAt: number;
  revision: number;
  sealedPassword: Buffer;
  doc: CustomKeyStoreDoc;
}

export function storeFromRecord(r: CustomKeyStoreRecord): CustomKeyStore {
  return {
    scope: { accountId: r.accountId, region: r.region },
    id: r.id,
    name: r.name,
    clusterId: r.clusterId,
    createdAt: r.createdAt,
    revision: r.revision,
    sealedPassword: r.sealedPassword,
    doc: r.doc as unknown as CustomKeyStoreDoc,
  };
}

export function recordFromStore(s: CustomKeyStore): CustomKeyStoreRecord {
  return {
    accountId: s.scope.accountId,
    region: s.scope.region,
    id: s.id,
    name: s.name,
    clusterId: s.clusterId,
    createdAt: s.createdAt,
    revision: s.revision,
    sealedPassword: s.sealedPassword,
    doc: s.doc as unknown as Record<string, unknown>,
  };
}

export function connectionStateOf(s: CustomKeyStore): ConnectionState {
  if (s.doc.desired === 'DISCONNECTED') return 'DISCONNECTED';
  return s.doc.failure !== undefined ? 'FAILED' : 'CONNECTED';
}

/** How an HSM failure shows as AWS's ConnectionErrorCode. */
export function connectionErrorOf(failure: HsmFailure): ConnectionErrorCode {
  switch (failure) {
    case 'INVALID_CREDENTIALS': return 'INVALID_CREDENTIALS';
    case 'PIN_LOCKED': return 'USER_LOCKED_OUT';
    // The token is the cluster's only "HSM": no token with that label is a cluster without HSMs.
    case 'TOKEN_NOT_FOUND': return 'INSUFFICIENT_CLOUDHSM_HSMS';
    case 'MODULE_UNAVAILABLE':
    case 'DEVICE_ERROR': return 'NETWORK_ERRORS';
    default: return 'INTERNAL_ERROR';
  }
}

/** AWS CustomKeyStoresListEntry, as DescribeCustomKeyStores returns it. */
export function toCustomKeyStoreEntry(s: CustomKeyStore): Record<string, unknown> {
  const state = connectionStateOf(s);
  return {
    CustomKeyStoreId: s.id,
    CustomKeyStoreName: s.name,
    CustomKeyStoreType: s.doc.type,
    CloudHsmClusterId: s.clusterId,
    TrustAnchorCertificate: s.doc.trustAnchorCertificate,
    ConnectionState: state,
    ...(state === 'FAILED' && s.doc.failure !== undefined ? { ConnectionErrorCode: s.doc.failure } : {}),
    CreationDate: epochSeconds(s.createdAt),
  };
}
