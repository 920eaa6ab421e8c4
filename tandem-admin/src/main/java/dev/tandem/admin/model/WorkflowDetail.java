package dev.tandem.admin.model;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One workflow with everything recorded about it: its row (whose fields appear at the top level in JSON, and whose
 * {@code error} here includes the stack), its steps in order, its children, the events it set, the values of its
 * streams and the messages sent to it (each list at most {@value #LIST_LIMIT} long; {@code truncated} says when one
 * was cut).
 */
public record WorkflowDetail(
        @JsonUnwrapped WorkflowRow workflow,
        List<StepRow> steps,
        List<WorkflowRow> children,
        List<Event> events,
        List<StreamValue> streams,
        List<Message> messages,
        boolean truncated) {

    public static final int LIST_LIMIT = 1000;

    /** An event's current value ({@code ctx.setEvent}). */
    public record Event(String key, @Nullable JsonNode value, Instant updatedAt) {}

    /** One value written to a stream, or its end ({@code closed}). */
    public record StreamValue(String key, int position, @Nullable JsonNode value, boolean closed, Instant createdAt) {}

    /** A message sent to the workflow; {@code consumedAt} is null while no {@code recv} has taken it. */
    public record Message(String topic, long seq, @Nullable JsonNode message, @Nullable String idempotencyKey,
            Instant createdAt, @Nullable Instant consumedAt) {}

    public WorkflowDetail redact() {
        return new WorkflowDetail(workflow.redact(), steps.stream().map(StepRow::redact).toList(),
                children.stream().map(WorkflowRow::redact).toList(),
                events.stream().map(e -> new Event(e.key(), null, e.updatedAt())).toList(),
                streams.stream().map(s -> new StreamValue(s.key(), s.position(), null, s.closed(), s.createdAt()))
                        .toList(),
                messages.stream().map(m -> new Message(m.topic(), m.seq(), null, m.idempotencyKey(), m.createdAt(),
                        m.consumedAt())).toList(),
                truncated);
    }
}
