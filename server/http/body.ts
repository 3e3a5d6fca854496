import express, { type RequestHandler } from "express";
import { DomainError, type TIssue } from "../errors/domain-error.ts";
import type { TLogger } from "../infra/logger.ts";
import type { Metrics } from "../infra/metrics.ts";
import { describePath } from "../tracking/server-event.schema.ts";
import { recordClientFault, type TClientFaultKind } from "./client-faults.ts";
import { sendError } from "./errors.ts";

/**
 * Nesting allowed in a request body: the deepest legitimate body is an event's props (32 levels)
 * inside the request, its events array and the event (3 more) and, for a batched tRPC call, one
 * more. Deeper bodies are refused before anything recursive (zod, the OpenAPI adapter, tRPC,
 * JSON.stringify) sees them, so the answer never depends on how much stack happens to be left.
 */
export const MAX_BODY_DEPTH = 40;

const ALLOWED_CHARSETS = new Set(["utf-8", "utf8"]);
const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const FAULT_OF_CODE: Partial<Record<string, TClientFaultKind>> = {
  UNSUPPORTED_MEDIA_TYPE: "unsupported_encoding",
  MALFORMED_JSON: "malformed",
};

/**
 * Reads and checks every JSON body under /api, the same way for tRPC and REST: media type
 * `application/json` matched case-insensitively, charset UTF-8 (or none), no Content-Encoding,
 * valid UTF-8, at most `limitBytes`, at most MAX_BODY_DEPTH deep, no `__proto__` key and no
 * number a double does not keep as written (all would be changed silently on the way to the
 * database). REST gets the parsed value in `req.body`; tRPC gets the checked text, which it parses
 * itself. Each refusal is a client fault, counted and logged at info; errors reading the body (the
 * client aborting, too large) go to the error handler, which does the same.
 */
export function jsonBody(limitBytes: number, deps: { logger: TLogger; metrics: Metrics }): RequestHandler {
  const readRaw = express.raw({ type: () => true, limit: limitBytes, inflate: false });
  const refuse = (req: express.Request, res: express.Response, err: DomainError) => {
    recordClientFault(deps, req, res, FAULT_OF_CODE[err.code] ?? "invalid", err.message);
    sendError(req, res, err);
  };
  return (req, res, next) => {
    if (!WRITE_METHODS.has(req.method)) return next();
    const refused = refuseHeaders(req.headers["content-type"], req.headers["content-encoding"]);
    if (refused) return refuse(req, res, refused);
    readRaw(req, res, (err?: unknown) => {
      if (err) return next(err);
      if (!Buffer.isBuffer(req.body)) return next();
      if (req.headers["content-type"]) req.headers["content-type"] = "application/json";
      const checked = checkJsonText(req.body);
      if (checked instanceof DomainError) return refuse(req, res, checked);
      const isTrpc = req.originalUrl.startsWith("/api/trpc");
      req.body = isTrpc || checked.text === "" ? checked.text || undefined : checked.value;
      next();
    });
  };
}

/** 415 for a body this service does not read, naming what was sent. */
function refuseHeaders(contentType: string | undefined, contentEncoding: string | undefined): DomainError | undefined {
  const encoding = contentEncoding?.trim().toLowerCase();
  if (encoding && encoding !== "identity") {
    return new DomainError(
      "UNSUPPORTED_MEDIA_TYPE",
      `Content-Encoding "${contentEncoding}" is not supported: send the body uncompressed`,
      [
        {
          path: ["content-encoding"],
          code: "unsupported",
          message: `"${contentEncoding}" is not supported; send identity`,
        },
      ],
    );
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? "")?.[1];
  if (charset !== undefined && !ALLOWED_CHARSETS.has(charset.toLowerCase())) {
    return new DomainError("UNSUPPORTED_MEDIA_TYPE", `Charset "${charset}" is not supported: send UTF-8 JSON`, [
      { path: ["content-type"], code: "unsupported", message: `charset "${charset}" is not supported; send utf-8` },
    ]);
  }
  return undefined;
}

/** The body as text and parsed JSON, or the 400 that says why not. */
function checkJsonText(raw: Buffer): { text: string; value: unknown } | DomainError {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    return new DomainError("MALFORMED_JSON", "Request body is not valid UTF-8");
  }
  if (text.trim() === "") return { text: "", value: undefined };
  const issue = scanJson(text, MAX_BODY_DEPTH);
  if (issue) return new DomainError("VALIDATION_FAILED", "Input validation failed", [issue]);
  try {
    return { text, value: JSON.parse(text) };
  } catch {
    return new DomainError("MALFORMED_JSON", "Request body is not valid JSON");
  }
}

type TFrame = { isArray: boolean; key: string | number };

/**
 * One pass over JSON text, without recursion, that finds what JSON.parse would accept but this
 * service must refuse: nesting deeper than `maxDepth`, a `__proto__` key (dropped by object
 * spreads and zod), a number a double does not keep as written (see `numberProblem`). Syntax
 * errors are left to JSON.parse. The issue's path names the field like zod's, cut to 3 segments
 * (e.g. `["events", 0, "props"]`), except a number's, which names the number itself (e.g.
 * `["events", 0, "props", "id"]`); its message gives the full location.
 */
// eslint-disable-next-line max-lines-per-function -- one state machine over the text; split, it would share state.
export function scanJson(text: string, maxDepth: number): TIssue | undefined {
  const stack: TFrame[] = [];
  const pathOf = () => stack.map((f) => f.key);
  const issue = (path: (string | number)[], code: string, message: string, cut = 3): TIssue => ({
    path: path.slice(0, cut),
    code,
    message: `${message} (at ${describePath("body", path)})`,
  });
  let lastString = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      lastString = text.slice(i, end + 1);
      i = end;
    } else if (c === "{" || c === "[") {
      if (stack.length >= maxDepth) {
        return issue(
          pathOf().slice(0, maxDepth),
          "too_deep",
          `nests deeper than the ${maxDepth} levels a request body may have`,
        );
      }
      stack.push({ isArray: c === "[", key: c === "[" ? 0 : "" });
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      const top = stack[stack.length - 1];
      if (top?.isArray) top.key = (top.key as number) + 1;
    } else if (c === ":") {
      const top = stack[stack.length - 1];
      const key = parseKey(lastString);
      if (!top || key === undefined) return undefined;
      if (key === "__proto__") {
        return issue(
          [...stack.slice(0, -1).map((f) => f.key), key],
          "forbidden_key",
          "__proto__ cannot be stored as a key",
        );
      }
      top.key = key;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      const end = numberEnd(text, i);
      const problem = numberProblem(text.slice(i, end));
      if (problem) return issue(pathOf(), problem.code, problem.message, Infinity);
      i = end - 1;
    }
  }
  return undefined;
}

/** Index of the quote closing the string that opens at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

function numberEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && /[0-9eE.+-]/.test(text[i]!)) i++;
  return i;
}

/**
 * Why a JSON number token would not be stored as written, or undefined. What is stored is the
 * double JSON.parse makes of it, written back by JSON.stringify in its shortest form; the token
 * is kept only when that form has the same decimal value: `9007199254740993` (stored …992),
 * `12345678901234567890` (…567000), `0.1000000000000000055511151231257827` (0.1), `1e-400` (0)
 * and `-0` (0: JSON.stringify and jsonb both drop the sign) are refused; `0.1`, `1.50`, `1e21`
 * and `9007199254740991` pass. A malformed token is left to JSON.parse.
 */
export function numberProblem(token: string): { code: string; message: string } | undefined {
  const value = Number(token);
  const sent = decimalOf(token);
  if (sent === undefined || Number.isNaN(value)) return undefined;
  if (!Number.isFinite(value)) return { code: "number_too_large", message: "is a number beyond what a double holds" };
  const stored = String(value);
  if (decimalOf(stored) === sent) return undefined;
  const shown = token.length > 40 ? `${token.slice(0, 40)}…` : token;
  return {
    code: "number_not_exact",
    message: `is ${shown}, which would be stored as ${stored}: send it as a string to keep it exactly`,
  };
}

/**
 * A JSON number's decimal value as one canonical string (sign, significant digits, exponent),
 * so `1.50`, `15e-1` and `1.5` compare equal; `-0` keeps its sign. Undefined if not a number.
 */
function decimalOf(token: string): string | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(token);
  if (!m) return undefined;
  const [, sign, int, frac = "", exp = "0"] = m;
  const digits = `${int}${frac}`.replace(/^0+/, "");
  const significant = digits.replace(/0+$/, "");
  if (significant === "") return `${sign}0`;
  // BigInt: an exponent of any length is exact.
  const exponent = BigInt(exp) - BigInt(frac.length) + BigInt(digits.length - significant.length);
  return `${sign}${significant}e${exponent}`;
}

function parseKey(literal: string): string | undefined {
  try {
    const key: unknown = JSON.parse(literal);
    return typeof key === "string" ? key : undefined;
  } catch {
    return undefined;
  }
}
