/**
 * A minimal Prometheus registry: counters and one latency histogram, rendered in the text
 * exposition format at /metrics. Per-process by nature; Prometheus sums across instances.
 */
type TLabels = Record<string, string>;

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  private counters = new Map<string, { help: string; values: Map<string, number> }>();
  private histogram = new Map<string, { buckets: number[]; sum: number; count: number }>();

  inc(name: string, help: string, labels: TLabels = {}, by = 1): void {
    let c = this.counters.get(name);
    if (!c) this.counters.set(name, (c = { help, values: new Map() }));
    const key = labelString(labels);
    c.values.set(key, (c.values.get(key) ?? 0) + by);
  }

  observeRequest(labels: TLabels, seconds: number): void {
    const key = labelString(labels);
    let h = this.histogram.get(key);
    if (!h) this.histogram.set(key, (h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    BUCKETS.forEach((le, i) => {
      if (seconds <= le) h.buckets[i]! += 1;
    });
    h.sum += seconds;
    h.count += 1;
  }

  render(): string {
    const out: string[] = [];
    for (const [name, c] of this.counters) {
      out.push(`# HELP ${name} ${c.help}`, `# TYPE ${name} counter`);
      for (const [labels, v] of c.values) out.push(`${name}${labels} ${v}`);
    }
    const h = "http_request_duration_seconds";
    out.push(`# HELP ${h} HTTP request latency by route and status.`, `# TYPE ${h} histogram`);
    for (const [labels, v] of this.histogram) {
      const inner = labels.slice(1, -1);
      BUCKETS.forEach((le, i) => out.push(`${h}_bucket{${inner ? inner + "," : ""}le="${le}"} ${v.buckets[i]}`));
      out.push(`${h}_bucket{${inner ? inner + "," : ""}le="+Inf"} ${v.count}`, `${h}_sum${labels} ${v.sum}`, `${h}_count${labels} ${v.count}`);
    }
    return out.join("\n") + "\n";
  }
}

function labelString(labels: TLabels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}
