/**
 * The Hsm port over PKCS#11 (pkcs11js). See hsm.ts for the contract and docs/hsm.md for the design.
 */
import { sha256 } from '../crypto/primitives.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { HsmDecryptionError, HsmError, TrentError } from '../errors/errors.ts';
import { HSM_GCM_IV_BYTES, HSM_GCM_OVERHEAD, HSM_GCM_TAG_BYTES, type Hsm, type HsmKeyAttributes, type HsmOptions } from './hsm.ts';
import { acquireModule, ckr, describe, type Handle, initialize, pkcs11, type Pkcs11, releaseModule, rememberLogin, sameLoginPin } from './pkcs11-module.ts';
import { SessionPool } from './session-pool.ts';

const DEFAULT_MAX_SESSIONS = 4;
const MAX_RANDOM_BYTES = 1024;

/**
 * Return values meaning "the token no longer knows our session or our login": reopen, log in again,
 * retry once (a token restart, C_CloseAllSessions or finalize by another user of the library, a logout).
 */
const SESSION_LOST = new Set<number>([
  pkcs11.CKR_SESSION_HANDLE_INVALID,
  pkcs11.CKR_SESSION_CLOSED,
  pkcs11.CKR_USER_NOT_LOGGED_IN,
  pkcs11.CKR_DEVICE_REMOVED,
  pkcs11.CKR_TOKEN_NOT_PRESENT,
  pkcs11.CKR_TOKEN_NOT_RECOGNIZED,
  pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED,
]);
/** A cached object handle went stale (object handles are per-login-state in many tokens). */
const HANDLE_STALE = new Set<number>([pkcs11.CKR_KEY_HANDLE_INVALID, pkcs11.CKR_OBJECT_HANDLE_INVALID]);

function isSessionLost(err: unknown): boolean {
  const code = ckr(err);
  return code !== undefined && SESSION_LOST.has(code);
}

/** Opens the token named in `options` and logs in; fails with an HsmError saying why. */
export async function openPkcs11Hsm(options: HsmOptions): Promise<Hsm> {
  const lib = acquireModule(options.modulePath);
  const hsm = new Pkcs11Hsm(lib, options);
  try {
    await hsm.probe();
    return hsm;
  } catch (err) {
    await hsm.close();
    throw err;
  }
}

class Pkcs11Hsm implements Hsm {
  readonly modulePath: string;
  readonly tokenLabel: string;
  readonly #lib: Pkcs11;
  readonly #pin: SecretBytes;
  readonly #pool: SessionPool<Handle>;
  #slot: Handle | undefined;
  /** Key name → object handle, valid for one pool generation. */
  #handles = new Map<string, Handle>();
  #handlesGeneration = 0;
  #closed = false;

  constructor(lib: Pkcs11, options: HsmOptions) {
    this.modulePath = options.modulePath;
    this.tokenLabel = options.tokenLabel;
    this.#lib = lib;
    // Our own copy, so the caller may zero theirs; ours is zeroed by close().
    this.#pin = SecretBytes.copyOf(options.pin.expose());
    this.#pool = new SessionPool<Handle>(
      { open: () => this.#openSession(), close: (s) => this.#lib.C_CloseSession(s) },
      options.maxSessions ?? DEFAULT_MAX_SESSIONS,
    );
  }

  /** Opens (and logs in) the first session so a bad PIN or label fails at open time. */
  async probe(): Promise<void> {
    await this.#run('open', () => undefined);
  }

  async findOrCreateAesKey(name: string): Promise<{ created: boolean }> {
    return this.#run('findOrCreateAesKey', (s) => {
      if (this.#findKey(s, name, true) !== undefined) return { created: false };
      this.#generateKey(s, name);
      return { created: true };
    });
  }

  async createAesKey(name: string): Promise<void> {
    await this.#run('createAesKey', (s) => {
      if (this.#findKey(s, name, true) !== undefined) throw new HsmError('INTERNAL', `The HSM already holds a key named ${name}.`);
      this.#generateKey(s, name);
    });
  }

  async hasKey(name: string): Promise<boolean> {
    return this.#run('hasKey', (s) => this.#findKey(s, name, true) !== undefined);
  }

  async destroyKey(name: string): Promise<boolean> {
    return this.#run('destroyKey', (s) => {
      const handle = this.#findKey(s, name, true);
      if (handle === undefined) return false;
      this.#lib.C_DestroyObject(s, handle);
      this.#handles.delete(name);
      return true;
    });
  }

  async encrypt(keyName: string, plaintext: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    // pkcs11js passes an empty buffer as a NULL pointer, which tokens refuse (CKR_ARGUMENTS_BAD).
    if (plaintext.length === 0) throw new RangeError('HSM encrypt needs at least one byte of plaintext');
    return this.#run('encrypt', (s) => {
      const key = this.#requireKey(s, keyName);
      const iv = this.#lib.C_GenerateRandom(s, Buffer.alloc(HSM_GCM_IV_BYTES));
      this.#lib.C_EncryptInit(s, gcm(iv, aad), key);
      const input = Buffer.from(plaintext);
      try {
        const body = this.#lib.C_Encrypt(s, input, Buffer.alloc(plaintext.length + HSM_GCM_TAG_BYTES));
        return Buffer.concat([iv, body]);
      } finally {
        input.fill(0);
      }
    });
  }

  async decrypt(keyName: string, blob: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    if (blob.length < HSM_GCM_OVERHEAD) throw new HsmDecryptionError();
    const buf = Buffer.from(blob);
    const iv = buf.subarray(0, HSM_GCM_IV_BYTES);
    const body = buf.subarray(HSM_GCM_IV_BYTES);
    return this.#run('decrypt', (s) => {
      const key = this.#requireKey(s, keyName);
      this.#lib.C_DecryptInit(s, gcm(iv, aad), key);
      const out = Buffer.alloc(body.length);
      try {
        const plain = this.#lib.C_Decrypt(s, body, out);
        return Buffer.from(plain);
      } catch (err) {
        // Session loss is retried by #run; anything else C_Decrypt says is the one uniform failure
        // (SoftHSM2 reports a bad tag as CKR_GENERAL_ERROR, others as CKR_ENCRYPTED_DATA_INVALID).
        if (isSessionLost(err)) throw err;
        throw new HsmDecryptionError();
      } finally {
        out.fill(0);
      }
    });
  }

  async findOrCreateEcSigningKey(name: string): Promise<{ created: boolean; publicKeySpki: Buffer }> {
    return this.#run('findOrCreateEcSigningKey', (s) => {
      let pub = this.#findObject(s, name, pkcs11.CKO_PUBLIC_KEY);
      const created = pub === undefined;
      if (pub === undefined) {
        const id = Buffer.from(name, 'utf8');
        pub = this.#lib.C_GenerateKeyPair(s, { mechanism: pkcs11.CKM_EC_KEY_PAIR_GEN }, [
          { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY },
          { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_EC },
          { type: pkcs11.CKA_EC_PARAMS, value: P256_OID_DER },
          { type: pkcs11.CKA_TOKEN, value: true },
          { type: pkcs11.CKA_VERIFY, value: true },
          { type: pkcs11.CKA_LABEL, value: name },
          { type: pkcs11.CKA_ID, value: id },
        ], [
          { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY },
          { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_EC },
          { type: pkcs11.CKA_TOKEN, value: true },
          { type: pkcs11.CKA_PRIVATE, value: true },
          { type: pkcs11.CKA_SENSITIVE, value: true },
          { type: pkcs11.CKA_EXTRACTABLE, value: false },
          { type: pkcs11.CKA_SIGN, value: true },
          { type: pkcs11.CKA_LABEL, value: name },
          { type: pkcs11.CKA_ID, value: id },
        ]).publicKey;
      }
      const [point] = this.#lib.C_GetAttributeValue(s, pub, [{ type: pkcs11.CKA_EC_POINT }]);
      // CKA_EC_POINT is the DER OCTET STRING around the uncompressed point (04 ‖ x ‖ y).
      const raw = point?.value;
      if (!raw || raw.length !== 67 || raw[0] !== 0x04 || raw[1] !== 65 || raw[2] !== 0x04) {
        throw new HsmError('INTERNAL', `The HSM key ${name} is not an uncompressed P-256 point.`);
      }
      return { created, publicKeySpki: Buffer.concat([P256_SPKI_PREFIX, raw.subarray(2)]) };
    });
  }

  async signEcdsaP256Sha256(keyName: string, message: Uint8Array): Promise<Buffer> {
    const digest = sha256(message);
    return this.#run('signEcdsaP256Sha256', (s) => {
      const key = this.#findObject(s, keyName, pkcs11.CKO_PRIVATE_KEY);
      if (key === undefined) throw new HsmError('KEY_NOT_FOUND', `The HSM holds no signing key named ${keyName}.`);
      this.#lib.C_SignInit(s, { mechanism: pkcs11.CKM_ECDSA }, key);
      // CKM_ECDSA signs the hash given and returns r ‖ s, 32 bytes each for P-256.
      return ecdsaRawToDer(Buffer.from(this.#lib.C_Sign(s, digest, Buffer.alloc(64))));
    });
  }

  async randomBytes(n: number): Promise<Buffer> {
    if (!Number.isInteger(n) || n < 1 || n > MAX_RANDOM_BYTES) throw new RangeError(`randomBytes needs 1..${MAX_RANDOM_BYTES} bytes`);
    return this.#run('randomBytes', (s) => Buffer.from(this.#lib.C_GenerateRandom(s, Buffer.alloc(n))));
  }

  async keyAttributes(keyName: string, kind: 'aes' | 'signing' = 'aes'): Promise<HsmKeyAttributes> {
    return this.#run('keyAttributes', (s) => {
      const key = kind === 'aes' ? this.#requireKey(s, keyName) : this.#findObject(s, keyName, pkcs11.CKO_PRIVATE_KEY);
      if (key === undefined) throw new HsmError('KEY_NOT_FOUND', `The HSM holds no signing key named ${keyName}.`);
      const attrs = this.#lib.C_GetAttributeValue(s, key, [
        { type: pkcs11.CKA_TOKEN },
        { type: pkcs11.CKA_PRIVATE },
        { type: pkcs11.CKA_SENSITIVE },
        { type: pkcs11.CKA_EXTRACTABLE },
        { type: pkcs11.CKA_ALWAYS_SENSITIVE },
        { type: pkcs11.CKA_NEVER_EXTRACTABLE },
        { type: pkcs11.CKA_LOCAL },
        ...(kind === 'aes' ? [{ type: pkcs11.CKA_VALUE_LEN }] : []),
      ]);
      const flag = (type: number): boolean => {
        const v = attrs.find((a) => a.type === type)?.value;
        return v !== undefined && v.length > 0 && v[0] !== 0;
      };
      const len = attrs.find((a) => a.type === pkcs11.CKA_VALUE_LEN)?.value;
      return {
        token: flag(pkcs11.CKA_TOKEN),
        private: flag(pkcs11.CKA_PRIVATE),
        sensitive: flag(pkcs11.CKA_SENSITIVE),
        extractable: flag(pkcs11.CKA_EXTRACTABLE),
        alwaysSensitive: flag(pkcs11.CKA_ALWAYS_SENSITIVE),
        neverExtractable: flag(pkcs11.CKA_NEVER_EXTRACTABLE),
        local: flag(pkcs11.CKA_LOCAL),
        // CK_ULONG in host byte order (8 bytes on 64-bit Linux).
        valueLength: len === undefined ? 0 : len.length >= 8 ? Number(len.readBigUInt64LE(0)) : len.readUInt32LE(0),
      };
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pool.close();
    this.#handles.clear();
    this.#pin.zeroize();
    releaseModule(this.modulePath);
  }

  /**
   * Runs one operation on a pooled session. A lost session or login is recovered once (new session,
   * new login) and the operation retried; a second failure is an HsmError('DEVICE_ERROR').
   */
  async #run<T>(op: string, fn: (session: Handle) => T | Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new HsmError('INTERNAL', 'The HSM connection is closed.');
      let generation = this.#pool.generation;
      try {
        return await this.#pool.use(
          (s, g) => {
            generation = g;
            if (this.#handlesGeneration !== g) {
              this.#handles.clear();
              this.#handlesGeneration = g;
            }
            return fn(s);
          },
          // A session whose operation failed may still have a find/encrypt/decrypt active: close it,
          // unless the token dropped it already (then its number may belong to someone else now).
          (err) => (isSessionLost(err) ? 'forget' : err instanceof TrentError && !(err instanceof HsmDecryptionError) ? 'keep' : 'close'),
        );
      } catch (err) {
        if (err instanceof TrentError) throw err;
        const code = ckr(err);
        if (attempt === 0 && code !== undefined && SESSION_LOST.has(code)) {
          this.#recover(generation, code);
          continue;
        }
        if (attempt === 0 && code !== undefined && HANDLE_STALE.has(code)) {
          this.#handles.clear();
          continue;
        }
        throw this.#failure(op, err);
      }
    }
  }

  /** Forgets every session; re-initialises the library if someone finalised it. Runs once per loss. */
  #recover(seenGeneration: number, code: number): void {
    if (this.#pool.generation !== seenGeneration) return; // another call recovered already
    this.#pool.reset();
    this.#handles.clear();
    this.#slot = undefined;
    if (code === pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED) {
      try {
        initialize(this.#lib);
      } catch {
        // Reported by the retry, which reopens a session.
      }
    }
  }

  #openSession(): Handle {
    const slot = this.#slot ?? this.#findSlot();
    const session = this.#lib.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
    const pin = this.#pin.expose();
    const label = this.tokenLabel.trim();
    try {
      // Login state is per token and application: the first session logs every session in, later
      // ones see CKR_USER_ALREADY_LOGGED_IN. The PIN becomes a JS string only for this call.
      this.#lib.C_Login(session, pkcs11.CKU_USER, pin.toString('utf8'));
      rememberLogin(this.modulePath, label, pin);
    } catch (err) {
      const alreadyIn = ckr(err) === pkcs11.CKR_USER_ALREADY_LOGGED_IN;
      if (!alreadyIn || !sameLoginPin(this.modulePath, label, pin)) {
        try {
          this.#lib.C_CloseSession(session);
        } catch {
          // Best effort.
        }
        if (alreadyIn) throw new HsmError('INVALID_CREDENTIALS', `The HSM token "${label}" refused the PIN.`);
        throw err;
      }
    }
    this.#slot = slot;
    return session;
  }

  #findSlot(): Handle {
    const wanted = this.tokenLabel.trim();
    for (const slot of this.#lib.C_GetSlotList(true)) {
      // Token labels are blank-padded to 32 bytes.
      if (this.#lib.C_GetTokenInfo(slot).label.trim() === wanted) return slot;
    }
    throw new HsmError('TOKEN_NOT_FOUND', `No PKCS#11 token labelled "${wanted}" in ${this.modulePath}.`);
  }

  /**
   * The key's object handle. A cached handle is used only after checking that it still names this
   * key (CKA_ID): another process may have destroyed the object and the token reused its number.
   * `fresh` skips the cache (existence checks must see other processes' changes).
   */
  #findKey(session: Handle, name: string, fresh = false): Handle | undefined {
    const id = Buffer.from(name, 'utf8');
    const cached = fresh ? undefined : this.#handles.get(name);
    if (cached !== undefined) {
      try {
        const [attr] = this.#lib.C_GetAttributeValue(session, cached, [{ type: pkcs11.CKA_ID }]);
        if (attr?.value.equals(id)) return cached;
      } catch (err) {
        if (isSessionLost(err)) throw err;
      }
    }
    this.#handles.delete(name);
    this.#lib.C_FindObjectsInit(session, [
      { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
      { type: pkcs11.CKA_ID, value: id },
    ]);
    let found: Handle[];
    try {
      found = this.#lib.C_FindObjects(session, 2);
    } finally {
      this.#lib.C_FindObjectsFinal(session);
    }
    if (found.length > 1) throw new HsmError('INTERNAL', `The HSM holds more than one key named ${name}.`);
    const handle = found[0];
    if (handle !== undefined) this.#handles.set(name, handle);
    return handle;
  }

  /** The one object of `cls` whose CKA_ID is `name` (uncached: signing keys are looked up per use). */
  #findObject(session: Handle, name: string, cls: number): Handle | undefined {
    this.#lib.C_FindObjectsInit(session, [
      { type: pkcs11.CKA_CLASS, value: cls },
      { type: pkcs11.CKA_ID, value: Buffer.from(name, 'utf8') },
    ]);
    let found: Handle[];
    try {
      found = this.#lib.C_FindObjects(session, 2);
    } finally {
      this.#lib.C_FindObjectsFinal(session);
    }
    if (found.length > 1) throw new HsmError('INTERNAL', `The HSM holds more than one key object named ${name}.`);
    return found[0];
  }

  #requireKey(session: Handle, name: string): Handle {
    const handle = this.#findKey(session, name);
    if (handle === undefined) throw new HsmError('KEY_NOT_FOUND', `The HSM holds no key named ${name}.`);
    return handle;
  }

  #generateKey(session: Handle, name: string): void {
    const handle = this.#lib.C_GenerateKey(session, { mechanism: pkcs11.CKM_AES_KEY_GEN }, [
      { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
      { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_AES },
      { type: pkcs11.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11.CKA_TOKEN, value: true },
      { type: pkcs11.CKA_PRIVATE, value: true },
      { type: pkcs11.CKA_SENSITIVE, value: true },
      { type: pkcs11.CKA_EXTRACTABLE, value: false },
      { type: pkcs11.CKA_ENCRYPT, value: true },
      { type: pkcs11.CKA_DECRYPT, value: true },
      { type: pkcs11.CKA_WRAP, value: true },
      { type: pkcs11.CKA_UNWRAP, value: true },
      { type: pkcs11.CKA_LABEL, value: name },
      { type: pkcs11.CKA_ID, value: Buffer.from(name, 'utf8') },
    ]);
    this.#handles.set(name, handle);
  }

  #failure(op: string, err: unknown): HsmError {
    const code = ckr(err);
    if (code === pkcs11.CKR_PIN_INCORRECT) return new HsmError('INVALID_CREDENTIALS', `The HSM token "${this.tokenLabel}" refused the PIN.`);
    if (code === pkcs11.CKR_PIN_LOCKED) return new HsmError('PIN_LOCKED', `The PIN of HSM token "${this.tokenLabel}" is locked.`);
    if (code !== undefined && SESSION_LOST.has(code)) {
      return new HsmError('DEVICE_ERROR', `HSM ${op} failed after reconnecting to token "${this.tokenLabel}": ${describe(err)}`);
    }
    return new HsmError('INTERNAL', `HSM ${op} failed on token "${this.tokenLabel}": ${describe(err)}`);
  }
}

/** DER of the OID prime256v1 (1.2.840.10045.3.1.7): CKA_EC_PARAMS of a P-256 key. */
const P256_OID_DER = Buffer.from('06082a8648ce3d030107', 'hex');
/** SPKI of a P-256 key up to the 65-byte point: SEQUENCE { AlgorithmIdentifier { id-ecPublicKey, prime256v1 }, BIT STRING }. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/** r ‖ s (PKCS#11) to the DER SEQUENCE { INTEGER r, INTEGER s } that verifiers take. */
function ecdsaRawToDer(raw: Buffer): Buffer {
  const half = raw.length / 2;
  const int = (b: Buffer) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b.subarray(i);
    const body = v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v;
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const seq = Buffer.concat([int(raw.subarray(0, half)), int(raw.subarray(half))]);
  return Buffer.concat([Buffer.from([0x30, seq.length]), seq]);
}

function gcm(iv: Buffer, aad: Uint8Array) {
  return {
    mechanism: pkcs11.CKM_AES_GCM,
    parameter: { type: pkcs11.CK_PARAMS_AES_GCM, iv, aad: Buffer.from(aad), ivBits: HSM_GCM_IV_BYTES * 8, tagBits: HSM_GCM_TAG_BYTES * 8 },
  };
}
