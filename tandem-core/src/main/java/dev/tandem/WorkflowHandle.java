package dev.tandem;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/** A reference to one workflow execution, local or running on another executor. Thread-safe. */
public interface WorkflowHandle<O extends @Nullable Object> {

    String workflowId();

    /** The current status, read from the database unless the execution is known locally to have finished. */
    WorkflowStatus status();

    /**
     * Waits for the workflow to finish and returns its output.
     *
     * @throws WorkflowFailedException if it ended {@code ERROR}, {@code CANCELLED} or {@code RETRIES_EXCEEDED}
     * @throws ResultTimeoutException if it has not finished within {@code timeout}
     */
    O result(Duration timeout);
}
