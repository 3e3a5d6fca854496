import http from "node:http";
import { performance } from "node:perf_hooks";

/** What one request did: events it carried and how many of them were recorded (not duplicates). */
export type TSent = { events: number; accepted: number };
export type TSend = () => Promise<TSent>;
export type TLoadResult = {
  requests: number;
  events: number;
  accepted: number;
  errors: number;
  seconds: number;
  latencies: number[];
  firstError?: string;
};

/** `clients` loops send back to back for `seconds` (after `warmup` requests, not counted). */
export async function runLoad(opts: {
  clients: number;
  seconds: number;
  warmup: number;
  send: TSend;
}): Promise<TLoadResult> {
  for (let i = 0; i < opts.warmup; i++) await opts.send();
  const result: TLoadResult = { requests: 0, events: 0, accepted: 0, errors: 0, seconds: 0, latencies: [] };
  const start = performance.now();
  const deadline = start + opts.seconds * 1000;
  const client = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const sent = await opts.send();
        result.latencies.push(performance.now() - t0);
        result.requests += 1;
        result.events += sent.events;
        result.accepted += sent.accepted;
      } catch (err) {
        result.errors += 1;
        result.firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, client));
  result.seconds = (performance.now() - start) / 1000;
  return result;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export type THttpAnswer = { status: number; text: string; setCookie: string[] };

/** A small keep-alive HTTP client: lighter on the load generator's CPU than fetch on a 2-core box. */
export class HttpClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly baseUrl: string,
    sockets: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  request(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<THttpAnswer> {
    const url = new URL(path, this.baseUrl);
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method,
          agent: this.agent,
          headers:
            body === undefined
              ? headers
              : { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const cookies = res.headers["set-cookie"] ?? [];
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), setCookie: cookies });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
