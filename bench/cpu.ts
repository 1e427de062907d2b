// The clock the benchmarks measure CPU by.

/** Process CPU (user + system, every thread: workers' and DuckDB's included), in microseconds. */
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
