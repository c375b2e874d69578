/** The micro benchmarks' one measure: process CPU (user + system) per call of `f`, run `n` times in turn. */
export async function cpuUsPer(f: () => Promise<void>, n: number): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await f();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / n;
}
