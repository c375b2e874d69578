/**
 * One line for the user out of whatever failed in `trent encrypt` / `trent decrypt`: a usage error of
 * ours, a KMS error from Trent (its AWS code and message), or an Encryption SDK error (whose messages can
 * span many lines, with stacks of every KMS call that failed).
 */

/** A failure whose message is already meant for the user. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const firstLine = (s: string) => (s.split('\n').find((l) => l.trim() !== '') ?? s).trim();

/** An AWS SDK service exception: name is the AWS error code. */
function awsCode(err: unknown): string | undefined {
  const e = err as { $metadata?: unknown; name?: unknown };
  return e && typeof e === 'object' && e.$metadata !== undefined && typeof e.name === 'string' ? e.name : undefined;
}

/**
 * The Encryption SDK throws plain Errors with no code, so its message is the only thing to go by: this
 * table rewords the ones a user meets (wrong key, tampering, truncation) and anything else passes
 * through as the ESDK's own first line. Decryption failures say what kind of check failed, not where.
 */
const ESDK_MESSAGES: [RegExp, string][] = [
  [/^unencryptedDataKey has not been set/, 'none of the message\'s data keys could be decrypted: it was not encrypted under the given key(s), or no key matched the discovery filter'],
  [/^Incomplete message/, 'the message is truncated (incomplete message)'],
  [/^Invalid Signature/, 'the message is truncated or has been altered (its signature does not verify)'],
  [/^Unsupported state or unable to authenticate data/, 'the message has been altered (a frame failed authentication)'],
  [/^Commitment does not match/, 'the message header has been altered (the key commitment does not match)'],
  [/^maxEncryptedDataKeys exceeded/, 'the message has more encrypted data keys than --max-encrypted-data-keys allows'],
];

/** "Unable to decrypt data key and one or more KMS CMKs had an error. Error #1 <stack>…": the first KMS error. */
function kmsErrorInStacks(message: string): string | undefined {
  const m = /Error #1\s*\n\s*([A-Za-z]+(?:Exception|Error)?): ([^\n]*)/.exec(message);
  return m ? `${m[1]}: ${m[2]!.trim()}` : undefined;
}

export function describeFailure(err: unknown): string {
  if (err instanceof UsageError) return err.message;
  const code = awsCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code) return `${code}: ${firstLine(message)}`;
  if (message.startsWith('Unable to decrypt data key')) {
    return `Trent refused to decrypt the message's data key: ${kmsErrorInStacks(message) ?? firstLine(message)}`;
  }
  for (const [re, text] of ESDK_MESSAGES) if (re.test(message)) return text;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.syscall === 'string') return `${e.syscall} ${e.path ?? ''}: ${e.code}`.replace(' :', ':');
  return firstLine(message);
}
