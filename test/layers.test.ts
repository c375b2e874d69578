/**
 * Imports flow one way (docs/layers.md). The rules are read from the table in docs/layers.md, the one
 * place they are written; every import of every non-test module under src/ — value and type-only
 * imports, re-exports and dynamic import() — is checked against them, and a failure names each
 * offending file, specifier and rule.
 *
 * Parsing: TypeScript 7 ships no JavaScript compiler API, so each file goes through esbuild (already a
 * dependency of tsx) with type-only imports turned into value imports and verbatimModuleSyntax on, so
 * esbuild keeps every import; its printed output has one statement per import, free of comments.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { transformSync } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

interface Rules {
  /** module → what it may import ('*' = any module of ours). */
  allow: Map<string, Set<string>>;
}

export function readRules(markdown: string): Rules {
  const begin = markdown.indexOf('<!-- layers:begin -->');
  const end = markdown.indexOf('<!-- layers:end -->');
  assert.ok(begin >= 0 && end > begin, 'docs/layers.md has the layers:begin/end table');
  const allow = new Map<string, Set<string>>();
  for (const line of markdown.slice(begin, end).split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.length !== 2 || !cells[0]!.startsWith('`')) continue;
    const name = cells[0]!.replaceAll('`', '');
    const targets = cells[1]!.split(',').map((t) => t.trim().replaceAll('`', '')).filter((t) => t !== '');
    assert.ok(!allow.has(name), `docs/layers.md names ${name} twice`);
    allow.set(name, new Set(targets));
  }
  return { allow };
}

/** The specifiers a TypeScript source imports, type-only ones included. */
export function importsOf(source: string): string[] {
  const valueOnly = source
    .replace(/\bimport\s+type\b(?=\s*[{*\w])/g, 'import')
    .replace(/\bexport\s+type\s*(?=[{*])/g, 'export ');
  const js = transformSync(valueOnly, { loader: 'ts', format: 'esm', tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } } }).code;
  const found: string[] = [];
  for (const m of js.matchAll(/^(?:import|export)\s[^;]*?\bfrom\s*"([^"]+)";/gms)) found.push(m[1]!);
  for (const m of js.matchAll(/^import\s*"([^"]+)";/gm)) found.push(m[1]!);
  for (const m of js.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) found.push(m[1]!);
  return found;
}

function filesUnder(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) filesUnder(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The module (row of the table) a path under src/ belongs to: the longest row that is a prefix of it. */
function moduleOf(rules: Rules, pathUnderSrc: string): string {
  const parts = pathUnderSrc.split(sep).join('/').replace(/\.ts$/, '').split('/');
  for (let n = parts.length; n > 0; n--) {
    const candidate = parts.slice(0, n).join('/');
    if (rules.allow.has(candidate)) return candidate;
  }
  return parts[0]!;
}

/** Every import of the given sources (path under src/, text) that the rules forbid, one line each. */
export function violations(rules: Rules, sources: readonly { rel: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const { rel, text } of sources) {
    const file = join(SRC, rel);
    const from = moduleOf(rules, rel);
    const allowed = rules.allow.get(from);
    for (const spec of importsOf(text)) {
      let to: string;
      if (spec === 'node:crypto' || spec === 'crypto') to = 'node:crypto';
      else if (spec.startsWith('.')) {
        const target = relative(SRC, resolve(dirname(file), spec));
        if (target.startsWith('..')) {
          out.push(`src/${rel}: import '${spec}' reaches outside src/`);
          continue;
        }
        to = moduleOf(rules, target);
      } else continue; // npm packages and other Node built-ins
      if (to === from) continue;
      if (!allowed) {
        out.push(`src/${rel}: module '${from}' has no row in docs/layers.md (import '${spec}')`);
        continue;
      }
      if (allowed.has(to) || (allowed.has('*') && to !== 'node:crypto')) continue;
      out.push(`src/${rel}: import '${spec}' (${from} → ${to}) is not allowed by docs/layers.md`);
    }
  }
  return out;
}

const rules = readRules(readFileSync(join(ROOT, 'docs/layers.md'), 'utf8'));

test('every import under src/ follows docs/layers.md (imports flow one way; node:crypto only in crypto/)', () => {
  const files = filesUnder(SRC);
  assert.ok(files.length > 100, 'the check sees the source tree');
  assert.deepEqual(violations(rules, files.map((f) => ({ rel: relative(SRC, f), text: readFileSync(f, 'utf8') }))), []);
});

test('every module under src/ has a row in docs/layers.md', () => {
  const modules = new Set(readdirSync(SRC).filter((n) => !n.endsWith('.test.ts')).map((n) => n.replace(/\.ts$/, '')));
  assert.deepEqual([...modules].filter((m) => !rules.allow.has(m)), []);
});

test('the parser sees type-only imports, re-exports, dynamic imports and multi-line imports, and not comments or strings', () => {
  const src = [
    "import type { A } from './a.ts';",
    "import { type B, c } from './b.ts';",
    "import { type D } from './d.ts';",
    "export type { E } from './e.ts';",
    "export * from './star.ts';",
    "import './side.ts';",
    "import {\n  x1,\n  x2,\n} from './multi.ts';",
    "const f = await import('./f.ts');",
    "// import { z } from './comment.ts';",
    "/* import { y } from './block.ts'; */",
    "const s = \"import { q } from './str.ts'\";",
    "import { randomBytes } from 'node:crypto';",
  ].join('\n');
  assert.deepEqual(importsOf(src).sort(), ['./a.ts', './b.ts', './d.ts', './e.ts', './f.ts', './multi.ts', './side.ts', './star.ts', 'node:crypto'].sort());
});

test('a back edge is reported with its file, import and rule (the edges this check was written against)', () => {
  const cases: [string, string, string][] = [
    ['auth/authorizer.ts', "import type { Key } from '../kms/key-model.ts';", 'auth → kms'],
    ['seal/operator-service.ts', "import type { Authorizer } from '../auth/authorizer.ts';", 'seal → auth'],
    ['storage/contract/audit-contract.ts', "import { AuditLog } from '../../audit/audit-log.ts';", 'storage → audit'],
    ['storage/sqlite/sqlite-storage.ts', "import { sha256 } from '../../crypto/primitives.ts';", 'storage/sqlite → crypto'],
    ['http/server.ts', "import { randomUUID } from 'node:crypto';", 'http → node:crypto'],
  ];
  for (const [rel, text, edge] of cases) {
    const found = violations(rules, [{ rel, text }]);
    assert.equal(found.length, 1, `${rel}: ${text}`);
    assert.ok(found[0]!.startsWith(`src/${rel}: import`) && found[0]!.includes(`(${edge})`), found[0]);
  }
});
