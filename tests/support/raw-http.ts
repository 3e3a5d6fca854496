import net from "node:net";

/** One HTTP/1.1 response as read off a socket. */
export type TRawResponse = { status: number; headers: Record<string, string>; body: string };

/** A kept-alive connection driven by hand, so a test controls exactly when each byte goes out. */
export type TRawConnection = {
  socket: net.Socket;
  /** Sends `GET path` and resolves with its response, or rejects with how the connection ended instead. */
  get(path: string): Promise<TRawResponse>;
  /** Resolves once the server has closed the connection (or it errored). */
  closed: Promise<string>;
};

export async function openRawConnection(baseUrl: string): Promise<TRawConnection> {
  const { hostname, port } = new URL(baseUrl);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let buffer = "";
  let waiting: { resolve: (r: TRawResponse) => void; reject: (e: Error) => void } | undefined;
  let ended: string | undefined;
  const closed = new Promise<string>((resolve) => {
    socket.once("close", () => resolve(ended ?? "closed"));
  });
  const tryParse = () => {
    if (!waiting) return;
    const response = parseResponse(buffer);
    if (!response) return;
    buffer = buffer.slice(response.length);
    const w = waiting;
    waiting = undefined;
    w.resolve(response.response);
  };
  socket.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("latin1");
    tryParse();
  });
  const fail = (how: string) => {
    ended ??= how;
    const w = waiting;
    waiting = undefined;
    w?.reject(new Error(how));
  };
  socket.on("error", (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
  socket.on("end", () => fail("closed without a response"));
  socket.on("close", () => fail("closed without a response"));
  return {
    socket,
    closed,
    get(path) {
      if (ended) return Promise.reject(new Error(ended));
      return new Promise<TRawResponse>((resolve, reject) => {
        waiting = { resolve, reject };
        socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: keep-alive\r\n\r\n`);
      });
    },
  };
}

/** A complete response with a Content-Length body at the start of `text`, or undefined if not all there yet. */
function parseResponse(text: string): { response: TRawResponse; length: number } | undefined {
  const headEnd = text.indexOf("\r\n\r\n");
  if (headEnd < 0) return undefined;
  const [statusLine = "", ...lines] = text.slice(0, headEnd).split("\r\n");
  const headers = Object.fromEntries(
    lines.map((line) => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  const length = Number(headers["content-length"] ?? 0);
  const bodyStart = headEnd + 4;
  if (text.length < bodyStart + length) return undefined;
  const status = Number(statusLine.split(" ")[1]);
  return { response: { status, headers, body: text.slice(bodyStart, bodyStart + length) }, length: bodyStart + length };
}
