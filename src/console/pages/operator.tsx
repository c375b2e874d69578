import type { PageProps } from '../app.tsx';
export function OperatorPage(_: PageProps) { return <h1>Operator</h1>; }
