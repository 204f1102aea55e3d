// Produces events in the standard's envelope shape with the plain Java client (kafka-clients), as another
// AuthorWorks service would: key = resource id, value = the envelope JSON, the aw-* headers and traceparent.
// Usage: java StandardProducer BOOTSTRAP TOPIC COUNT KEYS MODE   (MODE: standard | type_name)
// "type_name" writes meta.type_name instead of meta.type, as the standard's Rust example serializes it.
// data follows examples/catalog's content.book.published 1.1; series.position is the per-key sequence number.
// Prints one JSON line per acknowledged record: {"key","id","partition","offset"}.
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

public class StandardProducer {
  static String hex(int bytes) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < bytes; i++) sb.append(String.format("%02x", 1 + ThreadLocalRandom.current().nextInt(255)));
    return sb.toString();
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], topic = args[1], mode = args[4];
    int count = Integer.parseInt(args[2]), keys = Integer.parseInt(args[3]);
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    String typeField = mode.equals("type_name") ? "type_name" : "type";
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < count; i++) {
        String key = String.format("bk-%06d", i % keys);
        String id = UUID.randomUUID().toString();
        String traceId = hex(16), spanId = hex(8), correlation = "java-req-" + i;
        String ts = Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
        if (!ts.contains(".")) ts = ts.replace("Z", ".000Z");
        String value = "{\"meta\":{\"id\":\"" + id + "\",\"" + typeField + "\":\"content.book.published\","
            + "\"version\":\"1.1\",\"timestamp\":\"" + ts + "\",\"correlation_id\":\"" + correlation + "\","
            + "\"source\":\"java-service\",\"trace_context\":{\"trace_id\":\"" + traceId + "\",\"span_id\":\"" + spanId
            + "\"}},\"data\":{\"book_id\":\"" + key + "\",\"author_id\":\"" + UUID.randomUUID() + "\",\"title\":\"Java \u00e9dition " + i
            + "\",\"isbn\":\"9781234567897\",\"language\":\"en\",\"genres\":[\"fantasy\"],\"published_at\":\"" + ts
            + "\",\"series\":{\"series_id\":\"sr-interop\",\"position\":" + (i / keys + 1) + "}}}";
        ProducerRecord<String, String> rec = new ProducerRecord<>(topic, key, value);
        rec.headers().add("aw-event-id", id.getBytes(StandardCharsets.UTF_8));
        rec.headers().add("aw-event-type", "content.book.published".getBytes(StandardCharsets.UTF_8));
        rec.headers().add("aw-event-version", "1.1".getBytes(StandardCharsets.UTF_8));
        rec.headers().add("aw-correlation-id", correlation.getBytes(StandardCharsets.UTF_8));
        rec.headers().add("traceparent", ("00-" + traceId + "-" + spanId + "-01").getBytes(StandardCharsets.UTF_8));
        rec.headers().add("content-type", "application/json".getBytes(StandardCharsets.UTF_8));
        RecordMetadata md = producer.send(rec).get();
        System.out.println("{\"key\":\"" + key + "\",\"id\":\"" + id + "\",\"partition\":" + md.partition()
            + ",\"offset\":" + md.offset() + "}");
      }
    }
  }
}
