package io.odinws.tools.publish;

import java.nio.charset.StandardCharsets;

/**
 * One event ready to publish: Kafka topic, record key (the token id), event type name, and the record value,
 * compact UTF-8 JSON {@code {"type":..,"timestamp":..,"data":{..}}}.
 */
public record ProducedEvent(String topic, String token, String type, byte[] value) {
    /** The value as a string (tests, logging). */
    public String valueAsString() {
        return new String(value, StandardCharsets.UTF_8);
    }
}
