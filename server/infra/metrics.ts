import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The Prometheus registry of one process (prom-client), rendered at /metrics: the process's own
 * metrics (CPU, memory, event-loop lag, GC), the request latency histogram and our counters.
 * Per-process by nature; Prometheus sums across instances.
 */
type TLabels = Record<string, string>;

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly registry = new Registry();
  private readonly counters = new Map<string, Counter>();
  private readonly requests = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency by route and status.",
    labelNames: ["method", "route", "status"],
    buckets: BUCKETS,
    registers: [this.registry],
  });

  /** `processMetrics: false` leaves out the process's own metrics (tests build many registries). */
  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** A counter is registered on first use; its label names are those of that first call. */
  inc(name: string, help: string, labels: TLabels = {}, by = 1): void {
    let counter = this.counters.get(name);
    if (!counter) {
      counter = new Counter({ name, help, labelNames: Object.keys(labels), registers: [this.registry] });
      this.counters.set(name, counter);
    }
    counter.inc(labels, by);
  }

  observeRequest(labels: { method: string; route: string; status: string }, seconds: number): void {
    this.requests.observe(labels, seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
