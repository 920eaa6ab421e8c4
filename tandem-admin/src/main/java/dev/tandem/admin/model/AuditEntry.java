package dev.tandem.admin.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/** One row of {@code tandem.audit_log}: who did what, to what, when, from where, and what it changed. */
public record AuditEntry(long id, Instant at, String actor, String source, String action, @Nullable String target,
        @Nullable JsonNode details, String outcome) {}
