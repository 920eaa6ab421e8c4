package dev.tandem.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.admin.Operations;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/** One in-process run of the CLI: its exit code, stdout and stderr. */
record CliRun(int code, String out, String err) {

    /** Runs {@code tandem args...} with {@code TANDEM_DATABASE_URL} set to {@code databaseUrl} (unless null). */
    static CliRun run(String databaseUrl, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Map<String, String> env = new HashMap<>();
        if (databaseUrl != null) {
            env.put("TANDEM_DATABASE_URL", databaseUrl);
        }
        Session session = new Session(new PrintWriter(out), new PrintWriter(err), env, false, Instant::now);
        int code = TandemCli.execute(session, args);
        return new CliRun(code, out.toString(), err.toString());
    }

    JsonNode json() {
        try {
            return Operations.jsonMapper().readTree(out);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException("stdout is not JSON: " + out, e);
        }
    }

    @Override
    public String toString() {
        return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
