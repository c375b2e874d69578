import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Case, allowIf, denyIf, runCases } from './test-support.ts';
import { parseCidr, parseDate } from './conditions.ts';

const VIA = 'kms:ViaService';
const SM = 'secretsmanager.us-east-1.amazonaws.com';
const DAYS = 'kms:ScheduleKeyDeletionPendingWindowInDays';
const NOW = 'aws:CurrentTime';
const IP = 'aws:SourceIp';

// ---------------------------------------------------------------------------------------------------
// String operators

const stringCases: Case[] = [
  allowIf('StringEquals matches the exact value', { StringEquals: { [VIA]: SM } }, { [VIA]: SM }, 'Allow'),
  allowIf('StringEquals is case-sensitive', { StringEquals: { [VIA]: SM } }, { [VIA]: SM.toUpperCase() }, 'ImplicitDeny'),
  allowIf('StringEquals with several values matches any of them (OR)', { StringEquals: { [VIA]: ['ssm.us-east-1.amazonaws.com', SM] } }, { [VIA]: SM }, 'Allow'),
  allowIf('StringEquals on a missing key is false', { StringEquals: { [VIA]: SM } }, {}, 'ImplicitDeny'),
  allowIf('StringNotEquals holds for a different value', { StringNotEquals: { [VIA]: SM } }, { [VIA]: 'ssm.us-east-1.amazonaws.com' }, 'Allow'),
  allowIf('StringNotEquals fails for the same value', { StringNotEquals: { [VIA]: SM } }, { [VIA]: SM }, 'ImplicitDeny'),
  allowIf('StringNotEquals with several values is NOR: equal to the second fails', { StringNotEquals: { [VIA]: ['a', SM] } }, { [VIA]: SM }, 'ImplicitDeny'),
  allowIf('StringNotEquals on a missing key is true (negated operator)', { StringNotEquals: { [VIA]: SM } }, {}, 'Allow'),
  allowIf('StringEqualsIgnoreCase matches regardless of case', { StringEqualsIgnoreCase: { 'kms:KeySpec': 'symmetric_default' } }, { 'kms:KeySpec': 'SYMMETRIC_DEFAULT' }, 'Allow'),
  allowIf('StringEqualsIgnoreCase still compares whole strings', { StringEqualsIgnoreCase: { 'kms:KeySpec': 'symmetric' } }, { 'kms:KeySpec': 'SYMMETRIC_DEFAULT' }, 'ImplicitDeny'),
  allowIf('StringNotEqualsIgnoreCase fails for a case variant', { StringNotEqualsIgnoreCase: { 'kms:KeySpec': 'symmetric_default' } }, { 'kms:KeySpec': 'SYMMETRIC_DEFAULT' }, 'ImplicitDeny'),
  allowIf('StringNotEqualsIgnoreCase on a missing key is true', { StringNotEqualsIgnoreCase: { 'kms:KeySpec': 'x' } }, {}, 'Allow'),
  allowIf('StringLike * matches any run of characters', { StringLike: { [VIA]: 'secretsmanager.*.amazonaws.com' } }, { [VIA]: SM }, 'Allow'),
  allowIf('StringLike ? matches exactly one character', { StringLike: { 'kms:KeySpec': 'RSA_?048' } }, { 'kms:KeySpec': 'RSA_2048' }, 'Allow'),
  allowIf('StringLike ? does not match two characters', { StringLike: { 'kms:KeySpec': 'RSA_?48' } }, { 'kms:KeySpec': 'RSA_2048' }, 'ImplicitDeny'),
  allowIf('StringLike is case-sensitive', { StringLike: { [VIA]: 'SecretsManager.*' } }, { [VIA]: SM }, 'ImplicitDeny'),
  allowIf('StringLike without wildcards is an exact match', { StringLike: { [VIA]: 'secretsmanager' } }, { [VIA]: SM }, 'ImplicitDeny'),
  allowIf('StringNotLike fails when the pattern matches', { StringNotLike: { [VIA]: 'secretsmanager.*' } }, { [VIA]: SM }, 'ImplicitDeny'),
  allowIf('StringNotLike holds when the pattern does not match', { StringNotLike: { [VIA]: 'ssm.*' } }, { [VIA]: SM }, 'Allow'),
  allowIf('StringNotLike on a missing key is true', { StringNotLike: { [VIA]: 'ssm.*' } }, {}, 'Allow'),
  allowIf('StringEqualsIfExists on a missing key is true', { StringEqualsIfExists: { [VIA]: SM } }, {}, 'Allow'),
  allowIf('StringEqualsIfExists on a present key compares as StringEquals', { StringEqualsIfExists: { [VIA]: SM } }, { [VIA]: 'ssm.us-east-1.amazonaws.com' }, 'ImplicitDeny'),
  allowIf('StringLikeIfExists on a present matching key is true', { StringLikeIfExists: { [VIA]: 'secretsmanager.*' } }, { [VIA]: SM }, 'Allow'),
  allowIf('several operators are ANDed: one false makes the condition false', { StringEquals: { [VIA]: SM }, Bool: { 'aws:SecureTransport': 'true' } }, { [VIA]: SM, 'aws:SecureTransport': false }, 'ImplicitDeny'),
  allowIf('several keys under one operator are ANDed', { StringEquals: { [VIA]: SM, 'kms:KeySpec': 'SYMMETRIC_DEFAULT' } }, { [VIA]: SM, 'kms:KeySpec': 'RSA_2048' }, 'ImplicitDeny'),
  allowIf('condition key names are case-insensitive', { StringEquals: { 'KMS:VIASERVICE': SM } }, { [VIA]: SM }, 'Allow'),
  allowIf('condition operator names are case-insensitive', { stringequals: { [VIA]: SM } }, { [VIA]: SM }, 'Allow'),
  allowIf('kms:EncryptionAlgorithm condition matches the request algorithm', { StringEquals: { 'kms:EncryptionAlgorithm': 'SYMMETRIC_DEFAULT' } }, { 'kms:EncryptionAlgorithm': 'SYMMETRIC_DEFAULT' }, 'Allow'),
  allowIf('kms:SigningAlgorithm condition refuses another algorithm', { StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256' } }, { 'kms:SigningAlgorithm': 'RSASSA_PSS_SHA_256' }, 'ImplicitDeny', { action: 'kms:Sign' }),
  allowIf('kms:RequestAlias condition matches the alias used in the request', { StringEquals: { 'kms:RequestAlias': 'alias/prod' } }, { 'kms:RequestAlias': 'alias/prod' }, 'Allow'),
  allowIf('aws:ResourceTag condition on the key tag', { StringEquals: { 'aws:ResourceTag/env': 'prod' } }, { 'aws:ResourceTag/env': 'prod' }, 'Allow'),
  allowIf('aws:username condition through StringLike', { StringLike: { 'aws:username': 'b*' } }, {}, 'Allow'),
];

// ---------------------------------------------------------------------------------------------------
// Numeric operators

const numericCases: Case[] = [
  allowIf('NumericEquals holds for an equal number', { NumericEquals: { [DAYS]: '30' } }, { [DAYS]: 30 }, 'Allow', { action: 'kms:ScheduleKeyDeletion' }),
  allowIf('NumericEquals compares numerically, not as text', { NumericEquals: { [DAYS]: '30' } }, { [DAYS]: '30.0' }, 'Allow'),
  allowIf('NumericEquals fails for a different number', { NumericEquals: { [DAYS]: '30' } }, { [DAYS]: 7 }, 'ImplicitDeny'),
  allowIf('NumericNotEquals holds for a different number', { NumericNotEquals: { [DAYS]: '30' } }, { [DAYS]: 7 }, 'Allow'),
  allowIf('NumericNotEquals fails for an equal number', { NumericNotEquals: { [DAYS]: 30 } }, { [DAYS]: 30 }, 'ImplicitDeny'),
  allowIf('NumericNotEquals on a missing key is true', { NumericNotEquals: { [DAYS]: 30 } }, {}, 'Allow'),
  allowIf('NumericLessThan holds for a smaller number', { NumericLessThan: { [DAYS]: '10' } }, { [DAYS]: 7 }, 'Allow'),
  allowIf('NumericLessThan fails for an equal number', { NumericLessThan: { [DAYS]: '10' } }, { [DAYS]: 10 }, 'ImplicitDeny'),
  allowIf('NumericLessThanEquals holds for an equal number', { NumericLessThanEquals: { [DAYS]: '10' } }, { [DAYS]: 10 }, 'Allow'),
  allowIf('NumericGreaterThan holds for a larger number', { NumericGreaterThan: { [DAYS]: '10' } }, { [DAYS]: 11 }, 'Allow'),
  allowIf('NumericGreaterThan fails for an equal number', { NumericGreaterThan: { [DAYS]: '10' } }, { [DAYS]: 10 }, 'ImplicitDeny'),
  allowIf('NumericGreaterThanEquals holds for an equal number', { NumericGreaterThanEquals: { [DAYS]: '10' } }, { [DAYS]: 10 }, 'Allow'),
  allowIf('NumericGreaterThanEquals fails for a smaller number', { NumericGreaterThanEquals: { [DAYS]: '10' } }, { [DAYS]: 9 }, 'ImplicitDeny'),
  allowIf('Numeric operators accept decimals', { NumericLessThan: { 'aws:EpochTime': '3600.5' } }, { 'aws:EpochTime': '3600.25' }, 'Allow'),
  allowIf('a request value that is not a number does not match', { NumericLessThan: { [DAYS]: '10' } }, { [DAYS]: 'seven' }, 'ImplicitDeny'),
  allowIf('Numeric on a missing key is false', { NumericLessThan: { [DAYS]: '10' } }, {}, 'ImplicitDeny'),
  allowIf('NumericLessThanIfExists on a missing key is true', { NumericLessThanIfExists: { [DAYS]: '10' } }, {}, 'Allow'),
];

// ---------------------------------------------------------------------------------------------------
// Date operators

const dateCases: Case[] = [
  allowIf('DateLessThan holds before the date', { DateLessThan: { [NOW]: '2030-01-01T00:00:00Z' } }, { [NOW]: '2029-12-31T23:59:59Z' }, 'Allow'),
  allowIf('DateLessThan fails after the date', { DateLessThan: { [NOW]: '2030-01-01T00:00:00Z' } }, { [NOW]: '2030-01-01T00:00:01Z' }, 'ImplicitDeny'),
  allowIf('DateLessThan fails at the exact date', { DateLessThan: { [NOW]: '2030-01-01T00:00:00Z' } }, { [NOW]: '2030-01-01T00:00:00Z' }, 'ImplicitDeny'),
  allowIf('DateLessThanEquals holds at the exact date', { DateLessThanEquals: { [NOW]: '2030-01-01T00:00:00Z' } }, { [NOW]: '2030-01-01T00:00:00Z' }, 'Allow'),
  allowIf('DateGreaterThan holds after the date', { DateGreaterThan: { [NOW]: '2020-01-01' } }, { [NOW]: '2024-06-01T12:00:00Z' }, 'Allow'),
  allowIf('DateGreaterThanEquals holds at the exact date', { DateGreaterThanEquals: { [NOW]: '2020-01-01' } }, { [NOW]: '2020-01-01T00:00:00Z' }, 'Allow'),
  allowIf('DateGreaterThanEquals fails before the date', { DateGreaterThanEquals: { [NOW]: '2020-01-01' } }, { [NOW]: '2019-12-31T23:59:59Z' }, 'ImplicitDeny'),
  allowIf('DateEquals compares an epoch-seconds policy value with an ISO request value', { DateEquals: { [NOW]: '1700000000' } }, { [NOW]: '2023-11-14T22:13:20Z' }, 'Allow'),
  allowIf('DateEquals accepts a numeric epoch request value (aws:EpochTime)', { DateEquals: { 'aws:EpochTime': '2023-11-14T22:13:20Z' } }, { 'aws:EpochTime': 1700000000 }, 'Allow'),
  allowIf('DateNotEquals holds for another instant', { DateNotEquals: { [NOW]: '2023-11-14T22:13:20Z' } }, { [NOW]: '2023-11-14T22:13:21Z' }, 'Allow'),
  allowIf('DateNotEquals fails for the same instant written with an offset', { DateNotEquals: { [NOW]: '2023-11-14T22:13:20Z' } }, { [NOW]: '2023-11-15T00:13:20+02:00' }, 'ImplicitDeny'),
  allowIf('a date-time without an offset is UTC, not the host time zone', { DateEquals: { [NOW]: '2023-11-14T22:13:20' } }, { [NOW]: '2023-11-14T22:13:20Z' }, 'Allow'),
  allowIf('Date on a missing aws:CurrentTime is false', { DateLessThan: { [NOW]: '2030-01-01T00:00:00Z' } }, {}, 'ImplicitDeny'),
  allowIf('DateLessThanIfExists on a missing key is true', { DateLessThanIfExists: { [NOW]: '2030-01-01T00:00:00Z' } }, {}, 'Allow'),
  allowIf('a request date that does not parse does not match', { DateLessThan: { [NOW]: '2030-01-01T00:00:00Z' } }, { [NOW]: 'yesterday' }, 'ImplicitDeny'),
];

// ---------------------------------------------------------------------------------------------------
// Bool, Binary, Null

const boolCases: Case[] = [
  allowIf('Bool "true" matches a true request value', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': true }, 'Allow'),
  allowIf('Bool "false" matches a false request value', { Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': false }, 'Allow'),
  allowIf('Bool "true" does not match a false request value', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': false }, 'ImplicitDeny'),
  allowIf('Bool policy values are case-insensitive', { Bool: { 'aws:SecureTransport': 'TRUE' } }, { 'aws:SecureTransport': true }, 'Allow'),
  allowIf('Bool accepts a JSON boolean in the policy', { Bool: { 'kms:GrantIsForAWSResource': true } }, { 'kms:GrantIsForAWSResource': 'true' }, 'Allow', { action: 'kms:CreateGrant' }),
  allowIf('Bool on a missing key is false', { Bool: { 'aws:SecureTransport': 'true' } }, {}, 'ImplicitDeny'),
  allowIf('BoolIfExists on a missing key is true', { BoolIfExists: { 'aws:SecureTransport': 'true' } }, {}, 'Allow'),
  denyIf('Deny on Bool aws:SecureTransport false denies plain-HTTP calls', { Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': false }, 'ExplicitDeny'),
  denyIf('Deny on Bool aws:SecureTransport false lets TLS calls through', { Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': true }, 'Allow'),
  allowIf('BinaryEquals matches the same base64 value', { BinaryEquals: { 'custom:blob': 'QmluYXJ5VmFsdWU=' } }, { 'custom:blob': 'QmluYXJ5VmFsdWU=' }, 'Allow'),
  allowIf('BinaryEquals fails for different bytes', { BinaryEquals: { 'custom:blob': 'QmluYXJ5VmFsdWU=' } }, { 'custom:blob': 'T3RoZXI=' }, 'ImplicitDeny'),
  allowIf('Null "true" holds when the key is absent', { Null: { 'kms:EncryptionContextKeys': 'true' } }, {}, 'Allow'),
  allowIf('Null "true" fails when the key is present', { Null: { 'kms:EncryptionContextKeys': 'true' } }, {}, 'ImplicitDeny', { ec: { app: 'x' } }),
  allowIf('Null "false" holds when the key is present', { Null: { 'kms:EncryptionContextKeys': 'false' } }, {}, 'Allow', { ec: { app: 'x' } }),
  allowIf('Null "false" fails when the key is absent', { Null: { 'kms:EncryptionContextKeys': 'false' } }, {}, 'ImplicitDeny'),
  allowIf('Null treats an empty list as absent', { Null: { 'aws:TagKeys': 'true' } }, { 'aws:TagKeys': [] }, 'Allow'),
  allowIf('Null accepts a JSON boolean', { Null: { 'aws:TagKeys': false } }, { 'aws:TagKeys': ['env'] }, 'Allow'),
  denyIf('Deny with Null "true" requires an encryption context', { Null: { 'kms:EncryptionContextKeys': 'true' } }, {}, 'ExplicitDeny'),
  denyIf('Deny with Null "true" lets calls with an encryption context through', { Null: { 'kms:EncryptionContextKeys': 'true' } }, {}, 'Allow', { ec: { app: 'x' } }),
];

// ---------------------------------------------------------------------------------------------------
// IP address operators

const ipCases: Case[] = [
  allowIf('IpAddress holds for an IPv4 address inside the CIDR', { IpAddress: { [IP]: '203.0.113.0/24' } }, { [IP]: '203.0.113.77' }, 'Allow'),
  allowIf('IpAddress fails for an IPv4 address outside the CIDR', { IpAddress: { [IP]: '203.0.113.0/24' } }, { [IP]: '203.0.114.1' }, 'ImplicitDeny'),
  allowIf('IpAddress with a bare address is a /32', { IpAddress: { [IP]: '203.0.113.5' } }, { [IP]: '203.0.113.5' }, 'Allow'),
  allowIf('IpAddress with a bare address does not match its neighbour', { IpAddress: { [IP]: '203.0.113.5' } }, { [IP]: '203.0.113.6' }, 'ImplicitDeny'),
  allowIf('IpAddress with several CIDRs matches any (OR)', { IpAddress: { [IP]: ['10.0.0.0/8', '192.0.2.0/24'] } }, { [IP]: '192.0.2.10' }, 'Allow'),
  allowIf('IpAddress holds for an IPv6 address inside the CIDR', { IpAddress: { [IP]: '2001:db8::/32' } }, { [IP]: '2001:db8:1234::1' }, 'Allow'),
  allowIf('IpAddress fails for an IPv6 address outside the CIDR', { IpAddress: { [IP]: '2001:db8::/32' } }, { [IP]: '2001:db9::1' }, 'ImplicitDeny'),
  allowIf('IpAddress IPv6 CIDR written in upper case matches', { IpAddress: { [IP]: '2001:DB8::/32' } }, { [IP]: '2001:db8::abcd' }, 'Allow'),
  allowIf('IpAddress with an IPv6 CIDR does not match an IPv4 address', { IpAddress: { [IP]: '::/0' } }, { [IP]: '203.0.113.5' }, 'ImplicitDeny'),
  allowIf('IpAddress reads an IPv4-mapped IPv6 request address as IPv4', { IpAddress: { [IP]: '203.0.113.0/24' } }, { [IP]: '::ffff:203.0.113.9' }, 'Allow'),
  allowIf('IpAddress on a missing key is false', { IpAddress: { [IP]: '0.0.0.0/0' } }, {}, 'ImplicitDeny'),
  allowIf('IpAddress with a request value that is not an address is false', { IpAddress: { [IP]: '0.0.0.0/0' } }, { [IP]: 'secretsmanager.amazonaws.com' }, 'ImplicitDeny'),
  allowIf('NotIpAddress holds outside the CIDR', { NotIpAddress: { [IP]: '203.0.113.0/24' } }, { [IP]: '198.51.100.1' }, 'Allow'),
  allowIf('NotIpAddress fails inside the CIDR', { NotIpAddress: { [IP]: '203.0.113.0/24' } }, { [IP]: '203.0.113.1' }, 'ImplicitDeny'),
  allowIf('NotIpAddress with several CIDRs is NOR', { NotIpAddress: { [IP]: ['10.0.0.0/8', '203.0.113.0/24'] } }, { [IP]: '10.9.9.9' }, 'ImplicitDeny'),
  allowIf('NotIpAddress on a missing key is true', { NotIpAddress: { [IP]: '203.0.113.0/24' } }, {}, 'Allow'),
  allowIf('IpAddressIfExists on a missing key is true', { IpAddressIfExists: { [IP]: '203.0.113.0/24' } }, {}, 'Allow'),
  denyIf('Deny NotIpAddress of the corporate range denies callers outside it', { NotIpAddress: { [IP]: ['203.0.113.0/24', '2001:db8::/32'] } }, { [IP]: '198.51.100.7' }, 'ExplicitDeny'),
  denyIf('Deny NotIpAddress of the corporate range lets IPv6 callers inside it through', { NotIpAddress: { [IP]: ['203.0.113.0/24', '2001:db8::/32'] } }, { [IP]: '2001:db8::42' }, 'Allow'),
];

// ---------------------------------------------------------------------------------------------------
// ARN operators

const ROLE = 'arn:aws:iam::111122223333:role/ops/Admin';
const arnCases: Case[] = [
  allowIf('ArnEquals matches the same ARN', { ArnEquals: { 'aws:PrincipalArn': ROLE } }, { 'aws:PrincipalArn': ROLE }, 'Allow'),
  allowIf('ArnEquals is case-sensitive', { ArnEquals: { 'aws:PrincipalArn': ROLE } }, { 'aws:PrincipalArn': ROLE.replace('Admin', 'admin') }, 'ImplicitDeny'),
  allowIf('ArnLike wildcard in the account component matches', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/ops/Admin' } }, { 'aws:PrincipalArn': ROLE }, 'Allow'),
  allowIf('ArnLike wildcard in the resource component may span slashes', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/*' } }, { 'aws:PrincipalArn': ROLE }, 'Allow'),
  allowIf('ArnLike checks components separately: another service does not match', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/ops/Admin' } }, { 'aws:PrincipalArn': 'arn:aws:sts::111122223333:role/ops/Admin' }, 'ImplicitDeny'),
  allowIf('ArnLike pattern with fewer than six components matches nothing', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:*' } }, { 'aws:PrincipalArn': ROLE }, 'ImplicitDeny'),
  allowIf('ArnLike wildcard does not span the colon between components', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::1111*:role/ops/Admin' } }, { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:extra:role/ops/Admin' }, 'ImplicitDeny'),
  allowIf('ArnLike with a request value that is not an ARN is false', { ArnLike: { 'aws:PrincipalArn': '*' } }, { 'aws:PrincipalArn': 'not-an-arn' }, 'ImplicitDeny'),
  allowIf('ArnNotEquals holds for another ARN', { ArnNotEquals: { 'aws:PrincipalArn': ROLE } }, { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/Reader' }, 'Allow'),
  allowIf('ArnNotLike fails when the pattern matches', { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/*' } }, { 'aws:PrincipalArn': ROLE }, 'ImplicitDeny'),
  allowIf('ArnNotLike on a missing key is true', { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/*' } }, {}, 'Allow'),
  allowIf('ArnLike on a missing key is false', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/*' } }, {}, 'ImplicitDeny'),
  allowIf('ArnLike on the derived aws:PrincipalArn', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:user/b*' } }, {}, 'Allow'),
];

// ---------------------------------------------------------------------------------------------------
// Set qualifiers

const setCases: Case[] = [
  allowIf('ForAllValues:StringEquals holds when every request value is in the set', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }, { 'aws:TagKeys': ['team', 'env'] }, 'Allow'),
  allowIf('ForAllValues:StringEquals fails when one request value is outside the set', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }, { 'aws:TagKeys': ['env', 'cost'] }, 'ImplicitDeny'),
  allowIf('ForAllValues on a missing key is true (AWS)', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } }, {}, 'Allow'),
  allowIf('ForAllValues on an empty list is true (AWS)', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } }, { 'aws:TagKeys': [] }, 'Allow'),
  allowIf('ForAllValues:StringLike applies the wildcard to every value', { 'ForAllValues:StringLike': { 'aws:TagKeys': 'team-*' } }, { 'aws:TagKeys': ['team-a', 'team-b'] }, 'Allow'),
  allowIf('ForAnyValue:StringEquals holds when one request value is in the set', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'env' } }, { 'aws:TagKeys': ['cost', 'env'] }, 'Allow'),
  allowIf('ForAnyValue:StringEquals fails when no request value is in the set', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'env' } }, { 'aws:TagKeys': ['cost'] }, 'ImplicitDeny'),
  allowIf('ForAnyValue on a missing key is false', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'env' } }, {}, 'ImplicitDeny'),
  allowIf('ForAnyValue:StringLike matches a wildcard against any value', { 'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/prod-*' } }, { 'kms:ResourceAliases': ['alias/test', 'alias/prod-db'] }, 'Allow'),
  allowIf('ForAnyValue:StringNotEquals holds when one value is outside the set', { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['env', 'team'] } }, { 'aws:TagKeys': ['env', 'cost'] }, 'Allow'),
  allowIf('ForAnyValue:StringNotEquals fails when every value is in the set', { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['env', 'team'] } }, { 'aws:TagKeys': ['env'] }, 'ImplicitDeny'),
  allowIf('ForAnyValue:StringNotEquals on a missing key is false', { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': 'env' } }, {}, 'ImplicitDeny'),
  denyIf('Deny ForAllValues:StringNotLike: a key1-prefixed tag is not denied (AWS example)', { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } }, { 'aws:TagKeys': ['key1:legal'] }, 'Allow'),
  denyIf('Deny ForAllValues:StringNotLike: only other tags is denied (AWS example)', { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } }, { 'aws:TagKeys': ['key2:audit'] }, 'ExplicitDeny'),
  denyIf('Deny ForAllValues:StringNotLike: no tags at all is denied (AWS example)', { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } }, {}, 'ExplicitDeny'),
  allowIf('kms:GrantOperations ForAllValues allows a grant within the permitted operations', { 'ForAllValues:StringEquals': { 'kms:GrantOperations': ['Encrypt', 'Decrypt'] } }, { 'kms:GrantOperations': ['Decrypt'] }, 'Allow', { action: 'kms:CreateGrant' }),
  allowIf('kms:GrantOperations ForAllValues refuses a grant adding CreateGrant', { 'ForAllValues:StringEquals': { 'kms:GrantOperations': ['Encrypt', 'Decrypt'] } }, { 'kms:GrantOperations': ['Decrypt', 'CreateGrant'] }, 'ImplicitDeny', { action: 'kms:CreateGrant' }),
  allowIf('kms:GrantOperations ForAllValues with the Null guard refuses a grant with no operations', { 'ForAllValues:StringEquals': { 'kms:GrantOperations': ['Encrypt'] }, Null: { 'kms:GrantOperations': 'false' } }, {}, 'ImplicitDeny', { action: 'kms:CreateGrant' }),
  allowIf('without a qualifier a multi-valued key matches a positive operator if any value matches', { StringEquals: { 'kms:ResourceAliases': 'alias/prod' } }, { 'kms:ResourceAliases': ['alias/a', 'alias/prod'] }, 'Allow'),
  allowIf('without a qualifier a multi-valued key fails a negated operator if any value matches', { StringNotEquals: { 'kms:ResourceAliases': 'alias/prod' } }, { 'kms:ResourceAliases': ['alias/a', 'alias/prod'] }, 'ImplicitDeny'),
  allowIf('ForAnyValue:StringEqualsIfExists on a missing key is true', { 'ForAnyValue:StringEqualsIfExists': { 'aws:TagKeys': 'env' } }, {}, 'Allow'),
];

// ---------------------------------------------------------------------------------------------------
// Encryption context conditions

const EC = 'kms:EncryptionContext:app';
const ecCases: Case[] = [
  allowIf('kms:EncryptionContext:<key> matches the pair in the request context', { StringEquals: { [EC]: 'billing' } }, {}, 'Allow', { ec: { app: 'billing' } }),
  allowIf('kms:EncryptionContext:<key> fails for another value', { StringEquals: { [EC]: 'billing' } }, {}, 'ImplicitDeny', { ec: { app: 'payroll' } }),
  allowIf('kms:EncryptionContext:<key> fails when the pair is absent', { StringEquals: { [EC]: 'billing' } }, {}, 'ImplicitDeny', { ec: { other: 'billing' } }),
  allowIf('kms:EncryptionContext:<key> fails with no encryption context', { StringEquals: { [EC]: 'billing' } }, {}, 'ImplicitDeny'),
  allowIf('the context-key part of kms:EncryptionContext: is case-insensitive', { StringEquals: { 'kms:EncryptionContext:APP': 'billing' } }, {}, 'Allow', { ec: { app: 'billing' } }),
  allowIf('the encryption context value is case-sensitive under StringEquals', { StringEquals: { [EC]: 'billing' } }, {}, 'ImplicitDeny', { ec: { app: 'Billing' } }),
  allowIf('StringLike on an encryption context value', { StringLike: { 'kms:EncryptionContext:path': 'data/2024/*' } }, {}, 'Allow', { ec: { path: 'data/2024/06/report.csv' } }),
  allowIf('kms:EncryptionContextKeys ForAllValues allows only listed keys', { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['app', 'env'] } }, {}, 'Allow', { ec: { app: 'a', env: 'b' } }),
  allowIf('kms:EncryptionContextKeys ForAllValues refuses an unlisted key', { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['app', 'env'] } }, {}, 'ImplicitDeny', { ec: { app: 'a', owner: 'b' } }),
  allowIf('kms:EncryptionContextKeys ForAllValues allows a call with no context (AWS caveat)', { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['app'] } }, {}, 'Allow'),
  allowIf('kms:EncryptionContextKeys ForAnyValue requires the key to be present', { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'app' } }, {}, 'Allow', { ec: { app: 'a', env: 'b' } }),
  allowIf('kms:EncryptionContextKeys ForAnyValue fails with no context', { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'app' } }, {}, 'ImplicitDeny'),
  denyIf('Deny StringNotEquals on an encryption context pair denies a mismatched context', { StringNotEquals: { [EC]: 'billing' } }, {}, 'ExplicitDeny', { ec: { app: 'payroll' } }),
  denyIf('Deny StringNotEquals on an encryption context pair also denies an absent pair', { StringNotEquals: { [EC]: 'billing' } }, {}, 'ExplicitDeny'),
  denyIf('Deny StringNotEquals on an encryption context pair allows the matching context', { StringNotEquals: { [EC]: 'billing' } }, {}, 'Allow', { ec: { app: 'billing' } }),
];

runCases([...stringCases, ...numericCases, ...dateCases, ...boolCases, ...ipCases, ...arnCases, ...setCases, ...ecCases]);

// ---------------------------------------------------------------------------------------------------
// Value parsers

test('parseDate reads ISO dates, date-times with and without offsets, and epoch seconds', () => {
  assert.equal(parseDate('2024-01-01'), Date.UTC(2024, 0, 1));
  assert.equal(parseDate('2024-01-01T10:00:00Z'), Date.UTC(2024, 0, 1, 10));
  assert.equal(parseDate('2024-01-01T10:00:00'), Date.UTC(2024, 0, 1, 10));
  assert.equal(parseDate('2024-01-01T12:00:00+02:00'), Date.UTC(2024, 0, 1, 10));
  assert.equal(parseDate('2024-01-01T12:00:00+0200'), Date.UTC(2024, 0, 1, 10));
  assert.equal(parseDate('2024-01-01T10:00:00.500Z'), Date.UTC(2024, 0, 1, 10, 0, 0, 500));
  assert.equal(parseDate('1700000000'), 1700000000 * 1000);
  assert.equal(parseDate('not a date'), undefined);
  assert.equal(parseDate('2024-13-45'), undefined);
});

test('parseCidr accepts IPv4/IPv6 blocks and bare addresses, and refuses malformed ones', () => {
  assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
  assert.deepEqual(parseCidr('10.1.2.3'), { address: '10.1.2.3', prefix: 32, family: 'ipv4' });
  assert.deepEqual(parseCidr('2001:db8::/32'), { address: '2001:db8::', prefix: 32, family: 'ipv6' });
  assert.deepEqual(parseCidr('::ffff:10.0.0.0/104'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
  for (const bad of ['10.0.0.0/33', '10.0.0/8', '2001:db8::/129', '10.0.0.0/8/8', 'host.example', '10.0.0.0/x', '']) {
    assert.equal(parseCidr(bad), undefined, bad);
  }
});

