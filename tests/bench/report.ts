import type { TRow } from "./rows.ts";

const fixed = (n: number | null, digits = 1) => (n === null || Number.isNaN(n) ? "–" : n.toFixed(digits));
const whole = (n: number) => Math.round(n).toLocaleString("en-US");

function table(header: string[], lines: string[][], leftColumns: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) =>
    cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [format(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(format)];
}

/** The main table: one line per row, with pipeline ÷ floor for rows on the floor's database. */
export function mainTable(rows: TRow[], floor: TRow | undefined): string[] {
  const header = [
    "row",
    "path",
    "db",
    "c",
    "batch",
    "events/s",
    "÷floor",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "SQL/req",
    "pg CPU ms",
    "node CPU ms",
    "peak RSS MB",
    "errors",
  ];
  const lines = rows.map((r) => [
    r.id,
    r.what,
    r.database,
    String(r.clients),
    String(r.batch),
    whole(r.eventsPerSecond),
    floor && r !== floor && r.database === floor.database && r.batch === floor.batch
      ? `${((r.eventsPerSecond / floor.eventsPerSecond) * 100).toFixed(1)} %`
      : "",
    fixed(r.p50),
    fixed(r.p95),
    fixed(r.p99),
    fixed(r.statementsPerRequest),
    fixed(r.postgresCpuMsPerBatch, 2),
    fixed(r.nodeCpuMsPerBatch, 2),
    fixed(r.peakRssMb, 0),
    String(r.errors),
  ]);
  return table(header, lines, 3);
}

/** The same workload (REST, 4 clients) as the history grows. */
export function growthTable(rows: { label: string; row: TRow }[]): string[] {
  const base = rows.find((r) => r.label.startsWith("grown"))?.row;
  const header = ["database", "events/s", "vs grown", "p50 ms", "p99 ms", "SQL/req", "pg CPU ms"];
  const lines = rows.map(({ label, row }) => [
    label,
    whole(row.eventsPerSecond),
    base ? `${(((row.eventsPerSecond - base.eventsPerSecond) / base.eventsPerSecond) * 100).toFixed(1)} %` : "",
    fixed(row.p50),
    fixed(row.p99),
    fixed(row.statementsPerRequest),
    fixed(row.postgresCpuMsPerBatch, 2),
  ]);
  return table(header, lines, 1);
}
