package dev.tandem.internal.exec;

import dev.tandem.WorkflowStatus;
import dev.tandem.internal.db.Json.ErrorInfo;
import org.jspecify.annotations.Nullable;

/** How a local execution ended, as far as this process knows. */
sealed interface Outcome {
    /** Recorded SUCCESS with this output. */
    record Succeeded(@Nullable Object output) implements Outcome {}

    /** Recorded a failed final status. */
    record Failed(WorkflowStatus status, ErrorInfo error) implements Outcome {}

    /** This process stopped running it (shutdown, or another executor owns it now): read the database. */
    record Unknown() implements Outcome {}
}
