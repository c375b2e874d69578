#!/usr/bin/env node
// The `trent` command: loads TypeScript through tsx's ESM loader, then runs src/cli/main.ts.
import { register } from 'tsx/esm/api';

// The AWS SDK warns once per process on Node < 22 about SDK versions to come; a command's stderr is for
// its own one-line messages (and scripts that check it), so the notice is off unless asked for.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
const { main } = await import(new URL('../src/cli/main.ts', import.meta.url).href);
await main();
