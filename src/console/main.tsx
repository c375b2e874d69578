/** Entry point of the console bundle: reads the server's settings, then renders the shell. */
import { render } from 'preact';
import { App, type ConsoleConfig } from './app.tsx';

const root = document.getElementById('app')!;
fetch('config.json')
  .then((r) => r.json() as Promise<ConsoleConfig>)
  .then((config) => {
    root.replaceChildren();
    render(<App config={config} />, root);
  })
  .catch((err: unknown) => {
    root.textContent = `The console could not start: ${String(err)}`;
  });
