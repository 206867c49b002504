package io.cxpulse.xlang;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.SchemaStore;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads cxpulse topics as a JVM team would: kafka-clients with isolation.level=read_committed, the .avsc files of
 * schemas/ as the contract, GenericRecords, and either Avro's own BinaryMessageDecoder (single-object encoding) or
 * the Confluent wire format (magic 0, 4-byte schema id) with the writer's schema fetched by id from the registry's
 * Confluent-compatible API and decoded with plain Avro.
 *
 * <pre>
 * ReadTopics --bootstrap HOST:PORT --schemas DIR --format single-object|confluent [--registry URL]
 *            [--registry-auth USER:PASSWORD] [--timeout-s 60] --topic NAME=RECORD_FULL_NAME:COUNT ...
 * </pre>
 *
 * Prints one JSON line per message (topic, partition, offset, key, schema, value, or error instead of value) and
 * a summary on stderr; exits 0 when every topic gave its COUNT messages and all of them decoded.
 */
public final class ReadTopics {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final Map<String, Schema> contract;
  private final String format;
  private final String registry;
  private final String registryAuth;
  private final HttpClient http = HttpClient.newHttpClient();
  private final Map<Integer, Schema> writersById = new HashMap<>();
  private final Map<String, BinaryMessageDecoder<GenericRecord>> singleObject = new HashMap<>();

  private ReadTopics(Map<String, Schema> contract, String format, String registry, String registryAuth) {
    this.contract = contract;
    this.format = format;
    this.registry = registry;
    this.registryAuth = registryAuth;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> options = new HashMap<>();
    Map<String, String> readers = new LinkedHashMap<>();
    Map<String, Integer> expected = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (args[i].equals("--topic")) {
        String[] spec = args[i + 1].split("=", 2);
        int colon = spec[1].lastIndexOf(':');
        readers.put(spec[0], spec[1].substring(0, colon));
        expected.put(spec[0], Integer.parseInt(spec[1].substring(colon + 1)));
      } else {
        options.put(args[i], args[i + 1]);
      }
    }
    ReadTopics reader = new ReadTopics(Contract.load(Path.of(options.get("--schemas"))),
        options.getOrDefault("--format", "single-object"), options.get("--registry"),
        options.get("--registry-auth"));
    int failed = reader.run(options.get("--bootstrap"), readers, expected,
        Duration.ofSeconds(Long.parseLong(options.getOrDefault("--timeout-s", "60"))));
    System.exit(failed == 0 ? 0 : 1);
  }

  private int run(String bootstrap, Map<String, String> readers, Map<String, Integer> expected, Duration timeout)
      throws IOException {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "cxpulse-xlang-" + UUID.randomUUID());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    // Transactional producers (sentiment, the faust services) write markers and may abort: read committed only.
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    Map<String, Integer> seen = new HashMap<>();
    Map<String, Integer> errors = new HashMap<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(new ArrayList<>(readers.keySet()));
      while (System.nanoTime() < deadline && !reachedAll(seen, expected)) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          ObjectNode line = NODES.objectNode();
          line.put("topic", record.topic());
          line.put("partition", record.partition());
          line.put("offset", record.offset());
          line.put("key", record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8));
          try {
            GenericRecord value = decode(record.value(), contract.get(readers.get(record.topic())));
            line.put("schema", value.getSchema().getFullName());
            line.set("value", toJson(value, value.getSchema()));
          } catch (Exception e) {  // a reader reports every failure; the test decides
            line.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
            errors.merge(record.topic(), 1, Integer::sum);
          }
          seen.merge(record.topic(), 1, Integer::sum);
          System.out.println(JSON.writeValueAsString(line));
        }
      }
    }
    int failed = 0;
    for (Map.Entry<String, Integer> topic : expected.entrySet()) {
      int got = seen.getOrDefault(topic.getKey(), 0);
      int bad = errors.getOrDefault(topic.getKey(), 0);
      System.err.printf("%s: read %d of %d, decoded %d, failed %d%n", topic.getKey(), got, topic.getValue(),
          got - bad, bad);
      failed += bad + Math.max(0, topic.getValue() - got);
    }
    return failed;
  }

  private static boolean reachedAll(Map<String, Integer> seen, Map<String, Integer> expected) {
    return expected.entrySet().stream().allMatch(e -> seen.getOrDefault(e.getKey(), 0) >= e.getValue());
  }

  private GenericRecord decode(byte[] data, Schema reader) throws IOException, InterruptedException {
    if (format.equals("single-object")) {
      // Avro's own decoder: marker, the writer's 64-bit fingerprint looked up among the contract's schemas.
      return singleObject.computeIfAbsent(reader.getFullName(), name -> {
        SchemaStore.Cache store = new SchemaStore.Cache();
        contract.values().forEach(store::addSchema);
        return new BinaryMessageDecoder<>(GenericData.get(), reader, store);
      }).decode(data);
    }
    ByteBuffer buffer = ByteBuffer.wrap(data);
    if (data.length < 5 || buffer.get() != 0) {
      throw new IOException("not Confluent-framed (magic byte 0 missing)");
    }
    Schema writer = writerSchema(buffer.getInt());
    GenericDatumReader<GenericRecord> datumReader = new GenericDatumReader<>(writer, reader);
    return datumReader.read(null, DecoderFactory.get().binaryDecoder(data, 5, data.length - 5, null));
  }

  /** GET /schemas/ids/{id} of the Confluent-compatible API (Apicurio's /apis/ccompat/v7, Confluent's root). */
  private Schema writerSchema(int id) throws IOException, InterruptedException {
    Schema known = writersById.get(id);
    if (known != null) {
      return known;
    }
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(registry + "/schemas/ids/" + id));
    if (registryAuth != null) {
      request.header("Authorization",
          "Basic " + Base64.getEncoder().encodeToString(registryAuth.getBytes(StandardCharsets.UTF_8)));
    }
    HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("schema id " + id + ": registry answered " + response.statusCode());
    }
    Schema writer = new Schema.Parser().parse(JSON.readTree(response.body()).get("schema").asText());
    writersById.put(id, writer);
    return writer;
  }

  /** Avro datum to JSON with union branches unwrapped: the shape the Python side has. */
  private static JsonNode toJson(Object datum, Schema schema) {
    switch (schema.getType()) {
      case NULL:
        return NODES.nullNode();
      case UNION:
        return toJson(datum, schema.getTypes().get(GenericData.get().resolveUnion(schema, datum)));
      case RECORD: {
        ObjectNode node = NODES.objectNode();
        GenericRecord record = (GenericRecord) datum;
        for (Schema.Field field : schema.getFields()) {
          node.set(field.name(), toJson(record.get(field.pos()), field.schema()));
        }
        return node;
      }
      case ARRAY: {
        ArrayNode node = NODES.arrayNode();
        for (Object item : (List<?>) datum) {
          node.add(toJson(item, schema.getElementType()));
        }
        return node;
      }
      case MAP: {
        ObjectNode node = NODES.objectNode();
        for (Map.Entry<?, ?> entry : ((Map<?, ?>) datum).entrySet()) {
          node.set(entry.getKey().toString(), toJson(entry.getValue(), schema.getValueType()));
        }
        return node;
      }
      case STRING:
      case ENUM:
        return NODES.textNode(datum.toString());
      case INT:
        return NODES.numberNode((Integer) datum);
      case LONG:
        return NODES.numberNode((Long) datum);
      case DOUBLE:
        return NODES.numberNode((Double) datum);
      case FLOAT:
        return NODES.numberNode((Float) datum);
      case BOOLEAN:
        return NODES.booleanNode((Boolean) datum);
      case BYTES: {  // base64, as the Python side of the comparison writes bytes (UtteranceSentiment.embedding)
        ByteBuffer bytes = ((ByteBuffer) datum).duplicate();
        byte[] data = new byte[bytes.remaining()];
        bytes.get(data);
        return NODES.textNode(java.util.Base64.getEncoder().encodeToString(data));
      }
      default:  // FIXED: no cxpulse schema has it
        throw new IllegalArgumentException("unsupported Avro type " + schema.getType());
    }
  }
}
