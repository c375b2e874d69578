import type { PageProps } from '../app.tsx';
export function ParametersPage(_: PageProps) { return <h1>Parameters</h1>; }
