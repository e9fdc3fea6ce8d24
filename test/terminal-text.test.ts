/**
 * One function escapes what reaches the terminal from outside (terminalSafe): the audit of the AWS CLI's
 * output is printed through it (resolve's and explain's are tested with their CLIs).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../src/audit/cli";
import { terminalSafe } from "../src/terminal-text";

// eslint-disable-next-line no-control-regex -- control characters are what must not appear
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

test("C0, DEL and C1 controls become \\uXXXX; newlines, printable text and other Unicode stay", () => {
  expect(terminalSafe("a\u001b[2Jb\u0007c\u007fd\u009be\tf\ng Zürich")).toBe(
    String.raw`a\u001b[2Jb\u0007c\u007fd\u009be\u0009f` + "\ng Zürich",
  );
  // The escape is JSON's own: a JSON document stays valid and means the same
  const json = JSON.stringify({ name: "x\u009by" });
  expect(JSON.parse(terminalSafe(json))).toEqual({ name: "x\u009by" });
});

test("the audit prints a role name with escape sequences from the AWS CLI's output escaped", () => {
  // GIVEN get-role output whose role name carries escape sequences (clear screen, window title)
  const dir = mkdtempSync(join(tmpdir(), "audit-escape-"));
  try {
    const fixture = join(__dirname, "fixtures/audit/get-role-gitlab-tutorial.json");
    const file = join(dir, "role.json");
    writeFileSync(
      file,
      readFileSync(fixture, "utf8").replaceAll(
        "gitlab-tutorial",
        JSON.stringify("gitlab-tutorial\u001b[2J\u001b]0;owned\u0007\u009b").slice(1, -1),
      ),
    );
    // WHEN audited, as text and as JSON
    for (const args of [[file], [file, "--json"]]) {
      let out = "";
      runCli(args, { stdout: (t) => (out += t), stderr: (t) => (out += t) });
      // THEN nothing printed carries a control character, and the name is there, escaped
      expect(out).not.toMatch(CONTROL);
      expect(out).toContain(String.raw`gitlab-tutorial\u001b[2J\u001b]0;owned\u0007\u009b`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
