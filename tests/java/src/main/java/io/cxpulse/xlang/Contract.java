package io.cxpulse.xlang;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.apache.avro.Schema;
import org.apache.avro.SchemaParser;

/** Every named schema of a schemas/ folder, parsed by Apache Avro itself (references across files resolved). */
final class Contract {
  private Contract() {}

  static Map<String, Schema> load(Path folder) throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(folder)) {
      files = walk.filter(p -> p.toString().endsWith(".avsc")).sorted().toList();
    }
    // One parser for all files: Avro 1.12 resolves names defined in any of them, in any order.
    SchemaParser parser = new SchemaParser();
    for (Path file : files) {
      parser.parse(file);
    }
    Map<String, Schema> byName = new TreeMap<>();
    for (Schema schema : parser.getParsedNamedSchemas()) {
      byName.put(schema.getFullName(), schema);
    }
    return byName;
  }
}
