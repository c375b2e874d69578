import type { PageProps } from '../app.tsx';
export function SecretsPage(_: PageProps) { return <h1>Secrets</h1>; }
export function SecretDetailPage({ name }: PageProps & { name: string }) { return <h1>Secret {name}</h1>; }
