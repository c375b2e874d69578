/** KMS custom key store operations (AWS_CLOUDHSM type on PKCS#11 tokens; src/kms/custom-key-stores.ts). */
import { UnsupportedOperationException } from '../../errors/errors.ts';
import { toCustomKeyStoreEntry } from '../../kms/custom-key-store-model.ts';
import type { CustomKeyStoreService } from '../../kms/custom-key-stores.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';

const STORE_ID = { min: 1, max: 64 } as const;
const STORE_NAME = { min: 1, max: 256 } as const;
const CLUSTER_ID = { min: 1, max: 64 } as const;
// AWS: KeyStorePasswordType is 7-32 characters (checked with AWS's message in the service).
const PASSWORD = { min: 1, max: 32 } as const;
const TYPES = ['AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'] as const;
/** The XKS members of the model: read so their presence is known (XKS is not supported); the credential is never read. */
const XKS_MEMBERS = [
  'XksProxyUriEndpoint', 'XksProxyUriPath', 'XksProxyVpcEndpointServiceName', 'XksProxyVpcEndpointServiceOwner', 'XksProxyConnectivity',
];

function skipXks(r: InputReader, input: Record<string, unknown>): boolean {
  let any = false;
  for (const m of XKS_MEMBERS) if (r.string(m, { min: 1, max: 2048 }) !== undefined) any = true;
  if (input.XksProxyAuthenticationCredential !== undefined) any = true;
  return any;
}

export function customKeyStoreOperations(stores: CustomKeyStoreService): Operation[] {
  return [
    {
      name: 'CreateCustomKeyStore',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const name = r.string('CustomKeyStoreName', { required: true, ...STORE_NAME });
        const clusterId = r.string('CloudHsmClusterId', CLUSTER_ID);
        const trustAnchorCertificate = r.string('TrustAnchorCertificate', { min: 1, max: 5000 });
        const password = r.secretString('KeyStorePassword', PASSWORD);
        const type = r.enumValue('CustomKeyStoreType', TYPES);
        const xks = skipXks(r, input as Record<string, unknown>);
        r.done();
        const id = await stores.create(caller, definedMembers({
          name,
          type: type ?? (xks ? 'EXTERNAL_KEY_STORE' as const : undefined),
          clusterId,
          trustAnchorCertificate,
          password,
        }));
        return { CustomKeyStoreId: id };
      },
    },
    {
      name: 'ConnectCustomKeyStore',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const id = r.string('CustomKeyStoreId', { required: true, ...STORE_ID });
        r.done();
        await stores.connect(caller, id);
        return {};
      },
    },
    {
      name: 'DisconnectCustomKeyStore',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const id = r.string('CustomKeyStoreId', { required: true, ...STORE_ID });
        r.done();
        await stores.disconnect(caller, id);
        return {};
      },
    },
    {
      name: 'DescribeCustomKeyStores',
      readOnly: true,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const id = r.string('CustomKeyStoreId', STORE_ID);
        const name = r.string('CustomKeyStoreName', STORE_NAME);
        const limit = r.integer('Limit', { min: 1, max: 1000 });
        const marker = r.string('Marker', { min: 1, max: 1024 });
        r.done();
        const page = await stores.describe(caller, definedMembers({ id, name, limit, marker }));
        return definedMembers({
          CustomKeyStores: page.stores.map(toCustomKeyStoreEntry),
          Truncated: page.nextMarker !== undefined,
          NextMarker: page.nextMarker,
        });
      },
    },
    {
      name: 'UpdateCustomKeyStore',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const id = r.string('CustomKeyStoreId', { required: true, ...STORE_ID });
        const newName = r.string('NewCustomKeyStoreName', STORE_NAME);
        const password = r.secretString('KeyStorePassword', PASSWORD);
        const clusterId = r.string('CloudHsmClusterId', CLUSTER_ID);
        const xks = skipXks(r, input as Record<string, unknown>);
        r.done();
        if (xks) throw new UnsupportedOperationException('External key stores (XKS) are not supported.');
        await stores.update(caller, definedMembers({ id, newName, password, clusterId }));
        return {};
      },
    },
    {
      name: 'DeleteCustomKeyStore',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const id = r.string('CustomKeyStoreId', { required: true, ...STORE_ID });
        r.done();
        await stores.remove(caller, id);
        return {};
      },
    },
  ];
}
