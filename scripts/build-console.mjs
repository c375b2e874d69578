#!/usr/bin/env node
// Builds the web console (src/console/) into build/console/, which Trent serves under /console/
// (src/http/console.ts). Run by `npm install` (prepare) and `npm run build`; everything the page loads is
// in that folder, so the console fetches nothing from any other origin at run time.
import { copyFileSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const OUT = join(ROOT, 'build', 'console');

export async function buildConsole() {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    // A production install without devDependencies: the server starts and /console/ says it is not built.
    console.warn('build-console: esbuild is not installed (devDependency); the console is not built');
    return false;
  }
  // Built beside, then swapped in: a server starting meanwhile (tests run in parallel) never reads half a bundle.
  const tmp = `${OUT}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await esbuild.build({
    entryPoints: [join(ROOT, 'src/console/main.tsx')],
    outfile: join(tmp, 'console.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: false,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
    tsconfig: join(ROOT, 'src/console/tsconfig.json'),
  });
  for (const f of ['index.html', 'console.css']) copyFileSync(join(ROOT, 'src/console', f), join(tmp, f));
  rmSync(OUT, { recursive: true, force: true });
  renameSync(tmp, OUT);
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildConsole();
}
