package io.cxpulse.xlang;

import java.nio.file.Path;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/**
 * Prints, per record schema of a schemas/ folder, its full name, Avro's 64-bit parsing fingerprint (the one
 * single-object encoding carries) and its Parsing Canonical Form, tab-separated: what the Python side must match.
 */
public final class Fingerprints {
  private Fingerprints() {}

  public static void main(String[] args) throws Exception {
    Map<String, Schema> schemas = Contract.load(Path.of(args[0]));
    for (Schema schema : schemas.values()) {
      if (schema.getType() == Schema.Type.RECORD) {
        System.out.println(schema.getFullName() + "\t" + SchemaNormalization.parsingFingerprint64(schema) + "\t"
            + SchemaNormalization.toParsingForm(schema));
      }
    }
  }
}
