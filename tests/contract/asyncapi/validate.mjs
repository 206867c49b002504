// Validates an AsyncAPI document with the official parser (structure, references, semantics) and its Avro schema
// parser (every Avro payload must be a valid Avro schema: parser 3.6 converts AsyncAPI 3 payloads with it but does
// not call its validation, so this script does). Prints the diagnostics as JSON; exit 1 on any error.
//   node tests/contract/asyncapi/validate.mjs schemas/asyncapi.yaml
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";
import { AvroSchemaParser } from "@asyncapi/avro-schema-parser";

const avro = AvroSchemaParser();
const parser = new Parser({ schemaParsers: [avro] });
const text = readFileSync(process.argv[2], "utf8");
const { document, diagnostics } = await parser.parse(text);
const errors = diagnostics.filter((d) => d.severity === 0);
if (document) {
  for (const message of document.allMessages()) {
    const payload = message.json("payload");
    if (payload && avro.getMimeTypes().includes(payload.schemaFormat)) {
      const path = ["components", "messages", message.id(), "payload", "schema"];
      // the parser replaced the Avro schema by its JSON Schema translation and kept the original here
      const original = payload["x-parser-original-payload"] ?? payload.schema;
      for (const problem of await avro.validate({ data: original, path })) {
        errors.push({ code: "avro-schema", message: problem.message, path });
      }
    }
  }
}
const summary = {
  valid: document !== undefined && errors.length === 0,
  channels: document ? document.channels().length : 0,
  operations: document ? document.operations().length : 0,
  messages: document ? document.components().messages().length : 0,
  avroPayloads: document ? document.allMessages().filter((m) => avro.getMimeTypes().includes(
    (m.json("payload") ?? {}).schemaFormat)).length : 0,
  errors: errors.map((d) => ({ code: d.code, message: d.message, path: d.path.join(".") })),
  warnings: diagnostics.filter((d) => d.severity === 1).map((d) => ({ code: d.code, message: d.message,
    path: d.path.join(".") })),
};
console.log(JSON.stringify(summary, null, 1));
process.exit(summary.valid ? 0 : 1);
