// Rewrites docs/iam.md's generated table of condition keys per action from the access-rule tables.
import { readFileSync, writeFileSync } from 'node:fs';
import { withConditionKeyTable } from '../src/http/condition-key-table.ts';

const path = 'docs/iam.md';
writeFileSync(path, withConditionKeyTable(readFileSync(path, 'utf8')));
console.log(`${path}: condition-key table rewritten`);
