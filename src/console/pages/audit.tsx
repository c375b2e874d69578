import type { PageProps } from '../app.tsx';
export function AuditPage(_: PageProps) { return <h1>Audit</h1>; }
