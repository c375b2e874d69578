/**
 * Parameter labels (AWS: LabelParameterVersion docs; shared reference §4): at most 100 characters of
 * letters, digits, `.`, `-` and `_`; not starting with a digit, `aws` or `ssm`; at most 10 per version;
 * unique across the versions of a parameter, so labelling another version moves the label.
 */
export const MAX_LABELS_PER_VERSION = 10;

export function isValidLabel(label: string): boolean {
  if (label.length < 1 || label.length > 100) return false;
  if (!/^[a-zA-Z0-9_.-]+$/.test(label)) return false;
  if (/^[0-9]/.test(label)) return false;
  const lower = label.toLowerCase();
  return !lower.startsWith('aws') && !lower.startsWith('ssm');
}
