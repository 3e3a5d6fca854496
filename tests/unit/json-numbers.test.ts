import { describe, expect, it } from "vitest";
import { numberProblem, scanJson } from "../../server/http/body.ts";

describe("numberProblem: a JSON number is kept only if the double it parses to is written back with its value", () => {
  it.each([
    ["9007199254740993", "9007199254740992"],
    ["12345678901234567890", "12345678901234567000"],
    ["-0", "0"],
    ["-0.0e5", "0"],
    ["1e-400", "0"],
    ["0.1000000000000000055511151231257827", "0.1"],
    // A double holds 2^70 exactly, but JSON.stringify writes its shortest form, which is stored.
    ["1180591620717411303424", "1.1805916207174113e+21"],
  ])("refuses %s (stored as %s)", (token, stored) => {
    const problem = numberProblem(token);
    expect(problem?.code).toBe("number_not_exact");
    expect(problem?.message).toContain(`stored as ${stored}:`);
  });

  it.each(["1e400", "-1e400", "1e99999999999999999999"])("refuses %s as beyond a double", (token) => {
    expect(numberProblem(token)?.code).toBe("number_too_large");
  });

  it.each(["0", "0.0", "-5", "0.1", "1.50", "15e-1", "1e21", "1E+21", "9007199254740991", "5e-324", "0e999999999"])(
    "keeps %s",
    (token) => expect(numberProblem(token)).toBeUndefined(),
  );

  it("leaves a malformed token to JSON.parse", () => {
    expect(numberProblem("1.2.3")).toBeUndefined();
    expect(numberProblem("-")).toBeUndefined();
  });
});

describe("scanJson", () => {
  it("names a number by its full path, and skips numbers inside strings", () => {
    const issue = scanJson('{"a":[{"b":"-0 9007199254740993"},{"c":-0}]}', 40);
    expect([issue?.path, issue?.code]).toEqual([["a", 1, "c"], "number_not_exact"]);
    expect(issue?.message).toMatch(/stored as 0.*\(at body\.a\[1\]\.c\)$/);
  });
});
