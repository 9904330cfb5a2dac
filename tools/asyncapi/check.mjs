// Parses an AsyncAPI document with the official parser (@asyncapi/parser, pinned in package.json) and exits
// non-zero on any diagnostic of severity error, printing every diagnostic. Usage: node check.mjs <file>...
import { readFile } from "node:fs/promises";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node check.mjs <asyncapi.yaml>...");
  process.exit(2);
}
const parser = new Parser();
const severities = { 0: "error", 1: "warning", 2: "information", 3: "hint" };
let failed = false;
for (const file of files) {
  const { document, diagnostics } = await parser.parse(await readFile(file, "utf8"), { source: file });
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
  for (const d of diagnostics) {
    const where = d.path && d.path.length ? d.path.join(".") : "(document)";
    console.log(`${file}: ${severities[d.severity] ?? d.severity}: ${d.code}: ${d.message} at ${where}`);
  }
  if (errors.length || document === undefined) {
    failed = true;
    console.log(`${file}: INVALID (${errors.length} error(s))`);
  } else {
    const channels = document.channels().length;
    const messages = document.components().messages().length;
    const operations = document.operations().length;
    console.log(`${file}: valid AsyncAPI ${document.version()}: ${channels} channels, ${operations} operations, ${messages} messages, ${diagnostics.length} diagnostic(s) below error`);
  }
}
process.exit(failed ? 1 : 0);
