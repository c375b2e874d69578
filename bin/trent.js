#!/usr/bin/env node
// The `trent` command: loads TypeScript through tsx's ESM loader, then runs src/cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import(new URL('../src/cli/main.ts', import.meta.url).href);
await main();
