package dev.tandem.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.admin.Operations;
import picocli.CommandLine.Option;

/** {@code --json}: print what the HTTP API answers (snake_case names, ISO-8601 times) instead of a table. */
final class OutputOptions {
    @Option(names = "--json", description = "Print JSON (the shapes of the HTTP API) instead of a table")
    boolean json;

    static void printJson(Session session, Object value) {
        try {
            session.out().println(Operations.jsonMapper().writerWithDefaultPrettyPrinter().writeValueAsString(value));
            session.out().flush();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }
}
