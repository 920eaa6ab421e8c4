package dev.tandem.internal.db;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    final Json json = new Json(null);
    final ObjectMapper plain = Json.defaultMapper();

    record Order(String customer, int cents, Instant at) {}

    @Test
    void fastPathsWriteWhatJacksonWrites() throws Exception {
        for (Object v : new Object[] {"plain", "quote \" backslash \\ newline \n tab \t unicode \u00e9 \u2028 ctrl \u0001",
                "", 0, -17, Integer.MAX_VALUE, Long.MIN_VALUE, true, false}) {
            assertThat(json.write(v)).as("%s", v).isEqualTo(plain.writeValueAsString(v));
        }
        assertThat(json.write(null)).isEqualTo("null");
    }

    @Test
    void valuesComeBackAsTheirRecordedType() throws Exception {
        Order order = new Order("ada", 1250, Instant.parse("2026-11-28T10:15:30Z"));
        String text = json.write(order);
        assertThat(text).contains("\"customer\":\"ada\"", "\"at\":\"2026-11-28T10:15:30Z\"");
        Object back = json.read(text, Json.typeName(order), getClass().getClassLoader());
        assertThat(back).isEqualTo(order);
        assertThat(json.read(json.write(42L), Json.typeName(42L), getClass().getClassLoader())).isEqualTo(42L);
        assertThat(json.read("null", null, getClass().getClassLoader())).isNull();
        assertThat(json.write(List.of(Map.of("k", 1)))).isEqualTo("[{\"k\":1}]");
    }

    @Test
    void collectionsComeBackWithTheirElementTypes() throws Exception {
        ClassLoader loader = getClass().getClassLoader();
        Order a = new Order("ada", 1, Instant.parse("2026-01-01T00:00:00Z"));
        Order b = new Order("bob", 2, Instant.parse("2026-01-02T00:00:00Z"));
        for (Object value : new Object[] {List.of(a, b), new java.util.ArrayList<>(List.of(a)), java.util.Set.of(a),
                Map.of("first", a), List.of(List.of(a), List.of(b)), List.of(), Map.of(), List.of(1, 2)}) {
            String type = Json.typeName(value);
            Object back = json.read(json.write(value), type, loader);
            assertThat(back).as("%s as %s", value, type).isEqualTo(value);
        }
        assertThat(Json.typeName(List.of(a))).isEqualTo("java.util.ArrayList<" + Order.class.getName() + ">");
    }

    @Test
    void aFailureWhoseMessageThrowsIsStillRecordable() {
        RuntimeException nasty = new RuntimeException() {
            @Override
            public String getMessage() {
                throw new IllegalStateException("no message for you");
            }
        };
        Json.ErrorInfo info = json.readError(json.error(nasty));
        assertThat(info.message()).contains("getMessage() threw java.lang.IllegalStateException");
        assertThat(info.stack()).contains("JsonTest");
    }

    @Test
    void errorsRoundTrip() {
        String text = json.error(new IllegalStateException("it \"broke\""));
        Json.ErrorInfo info = json.readError(text);
        assertThat(info.type()).isEqualTo("java.lang.IllegalStateException");
        assertThat(info.message()).isEqualTo("it \"broke\"");
        assertThat(info.stack()).contains("JsonTest");
    }
}
