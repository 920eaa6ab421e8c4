package dev.tandem.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.admin.model.StepRow;
import dev.tandem.admin.model.WorkflowDetail;
import dev.tandem.admin.model.WorkflowRow;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** How workflows look in a terminal: the list's table, and the detail view with its step timeline. */
final class WorkflowView {
    /** The width of the timeline's bars, in characters. */
    static final int BAR = 40;
    static final char BAR_CHAR = '█';
    /** Longer values are cut in the detail view (the JSON has them whole). */
    static final int VALUE_MAX = 500;
    static final int STACK_LINES = 20;

    private WorkflowView() {}

    static Table list(Session s, List<WorkflowRow> rows) {
        Style st = s.style();
        Table table = new Table(st).column("WORKFLOW ID", 36).column("NAME", 24).column("STATUS", 16, st::status)
                .column("QUEUE", 12).column("CREATED", 10).column("UPDATED", 10).column("DETAIL", 70);
        for (WorkflowRow w : rows) {
            table.row(w.workflowId(), w.name(), w.status(), w.queueName(), Text.age(w.createdAt(), s.now()),
                    Text.age(w.updatedAt(), s.now()), note(w));
        }
        return table;
    }

    /** What a row most needs to say besides its status: the error, why it waits, or who runs it. */
    static String note(WorkflowRow w) {
        if (w.error() != null && !w.error().isNull()) {
            return error(w.error());
        }
        if (w.waitingReason() != null) {
            return w.waitingReason();
        }
        if ("RUNNING".equals(w.status()) && w.executorId() != null) {
            return "on " + w.executorId();
        }
        return "";
    }

    private static final Pattern STEP_FAILED = Pattern.compile("step '(.*)' \\(#(\\d+)\\) of workflow '.*' failed: (.*)",
            Pattern.DOTALL);
    private static final Pattern CLASS_NAME = Pattern.compile("\\b(?:[a-z_][a-z0-9_]*\\.)+([A-Z][A-Za-z0-9_$]*)");

    /**
     * An error, short, for a table: {@code IllegalStateException: card declined}, or for a step's failure
     * {@code step 'charge' (#2): IllegalStateException: card declined} (the row already names the workflow).
     */
    static String error(JsonNode error) {
        String type = error.path("type").asText("");
        String simple = type.substring(type.lastIndexOf('.') + 1);
        String message = error.path("message").asText("");
        Matcher step = STEP_FAILED.matcher(message);
        if (step.matches()) {
            return "step '" + step.group(1) + "' (#" + step.group(2) + "): "
                    + CLASS_NAME.matcher(step.group(3)).replaceAll("$1");
        }
        return simple.isEmpty() ? message : message.isEmpty() ? simple : simple + ": " + message;
    }

    static void detail(Session s, WorkflowDetail d) {
        PrintWriter out = s.out();
        Style st = s.style();
        WorkflowRow w = d.workflow();
        Instant now = s.now();
        field(out, st, "workflow", st.bold(w.workflowId()));
        field(out, st, "name", w.name());
        field(out, st, "status", st.status(w.status(), w.status()) + (w.attempts() > 1 ? "  (attempt " + w.attempts()
                + ")" : "") + (w.waitingReason() != null ? "  " + w.waitingReason() : ""));
        field(out, st, "queue", w.queueName());
        field(out, st, "executor", w.executorId());
        field(out, st, "created", Text.time(w.createdAt(), now));
        field(out, st, "started", Text.time(w.startedAt(), now));
        field(out, st, "updated", Text.time(w.updatedAt(), now)
                + (isFinal(w.status()) ? "  took " + Text.millis(Duration.between(w.createdAt(), w.updatedAt())
                        .toMillis()) : ""));
        field(out, st, "deadline", Text.time(w.deadlineAt(), now));
        field(out, st, "parent", w.parentWorkflowId());
        field(out, st, "forked from", w.forkedFrom());
        if (w.redacted()) {
            field(out, st, "input", st.dim("(hidden)"));
        } else {
            field(out, st, "input", value(w.input()));
            field(out, st, "output", w.output() == null ? null : value(w.output()));
        }
        if (w.error() != null && !w.error().isNull()) {
            field(out, st, "error", st.red(w.error().path("type").asText("") + ": " + w.error().path("message")
                    .asText("")));
            stack(out, st, w.error().path("stack").asText(""), "           ");
        }
        steps(s, d);
        if (!d.children().isEmpty()) {
            section(out, st, "children", d.children().size());
            Table children = new Table(st).column("WORKFLOW ID", 40).column("NAME", 24).column("STATUS", 16, st::status)
                    .column("CREATED", 10).column("DETAIL", 50);
            d.children().forEach(c -> children.row(c.workflowId(), c.name(), c.status(), Text.age(c.createdAt(), now),
                    note(c)));
            children.print(indent(out));
        }
        if (!d.events().isEmpty()) {
            section(out, st, "events", d.events().size());
            Table events = new Table(st).column("KEY", 24).column("VALUE", 60).column("SET", 10);
            d.events().forEach(e -> events.row(e.key(), Text.json(e.value()), Text.age(e.updatedAt(), now)));
            events.print(indent(out));
        }
        if (!d.streams().isEmpty()) {
            section(out, st, "streams", d.streams().size());
            Table streams = new Table(st).column("KEY", 24).number("POS").column("VALUE", 60).column("WRITTEN", 10);
            d.streams().forEach(v -> streams.row(v.key(), v.position(), v.closed() ? "(closed)" : Text.json(v.value()),
                    Text.age(v.createdAt(), now)));
            streams.print(indent(out));
        }
        if (!d.messages().isEmpty()) {
            section(out, st, "messages", d.messages().size());
            Table messages = new Table(st).number("SEQ").column("TOPIC", 20).column("MESSAGE", 50).column("SENT", 10)
                    .column("RECEIVED", 10);
            d.messages().forEach(m -> messages.row(m.seq(), m.topic(), Text.json(m.message()),
                    Text.age(m.createdAt(), now), m.consumedAt() == null ? "not yet" : Text.age(m.consumedAt(), now)));
            messages.print(indent(out));
        }
        if (d.truncated()) {
            out.println(st.dim("(some lists were cut at " + WorkflowDetail.LIST_LIMIT + " entries)"));
        }
        out.flush();
    }

    /**
     * One line per step: position, kind, name, when it started (from the workflow's creation), how long it took, and
     * a bar placed and sized in proportion on the workflow's whole span.
     */
    private static void steps(Session s, WorkflowDetail d) {
        PrintWriter out = s.out();
        Style st = s.style();
        section(out, st, "steps", d.steps().size());
        if (d.steps().isEmpty()) {
            out.println("  " + st.dim("(none recorded yet)"));
            return;
        }
        WorkflowRow w = d.workflow();
        long span = isFinal(w.status()) ? Duration.between(w.createdAt(), w.updatedAt()).toMillis()
                : Duration.between(w.createdAt(), s.now()).toMillis();
        for (StepRow step : d.steps()) {
            span = Math.max(span, step.offsetMillis() + step.durationMillis());
        }
        span = Math.max(span, 1);
        Table table = new Table(st).number("#").column("KIND", 12).column("NAME", 28).number("START").number("DURATION")
                .column("0 … " + Text.millis(span), BAR + 2, (padded, raw) -> st.cyan(padded));
        for (StepRow step : d.steps()) {
            String name = step.childWorkflowId() == null ? step.name() : step.name() + " → " + step.childWorkflowId();
            table.row(step.position(), step.kind(), (step.error() != null ? "✗ " : "") + name,
                    "+" + Text.millis(step.offsetMillis()), Text.millis(step.durationMillis()),
                    bar(step.offsetMillis(), step.durationMillis(), span));
        }
        table.print(indent(out));
        for (StepRow step : d.steps()) {
            if (step.error() != null && !step.error().isNull()) {
                out.println("  " + st.red("step " + step.position() + " '" + step.name() + "' failed: "
                        + error(step.error())));
            }
        }
    }

    /** {@code |    ████      |}: starts at offset/span of the width, at least one character long. */
    static String bar(long offset, long duration, long span) {
        // A step can start before the row's created_at (clocks of two machines); it then starts the bar.
        int start = (int) Math.max(0, Math.min(BAR - 1, Math.round((double) offset * BAR / span)));
        int length = (int) Math.max(1, Math.min(BAR - start, Math.round((double) duration * BAR / span)));
        return "|" + " ".repeat(start) + String.valueOf(BAR_CHAR).repeat(length) + " ".repeat(BAR - start - length)
                + "|";
    }

    private static boolean isFinal(String status) {
        return switch (status) {
            case "SUCCESS", "ERROR", "CANCELLED", "RETRIES_EXCEEDED" -> true;
            default -> false;
        };
    }

    private static String value(JsonNode value) {
        String text = value == null ? "null" : value.toString();
        return text.length() <= VALUE_MAX ? text
                : Text.truncate(text, VALUE_MAX) + " (" + text.length() + " characters; --json has it whole)";
    }

    private static void stack(PrintWriter out, Style st, String stack, String indent) {
        String[] lines = stack.split("\\R");
        int shown = 0;
        for (String line : lines) {
            if (line.isBlank() || shown == 0 && !line.startsWith("\t") && !line.startsWith(" ")
                    && !line.startsWith("at ")) {
                continue; // the first line repeats type and message
            }
            if (shown == STACK_LINES) {
                out.println(indent + st.dim("… " + (lines.length - shown - 1) + " more lines (--json has them)"));
                break;
            }
            out.println(indent + st.dim(line.strip()));
            shown++;
        }
    }

    private static void field(PrintWriter out, Style st, String label, String value) {
        if (value != null && !value.isEmpty()) {
            out.println(st.dim(String.format("%-11s", label)) + value);
        }
    }

    private static void section(PrintWriter out, Style st, String title, int count) {
        out.println();
        out.println(st.bold(title) + " " + st.dim("(" + count + ")"));
    }

    /** A writer that indents every line by two spaces, for tables inside a section. */
    private static PrintWriter indent(PrintWriter out) {
        return new PrintWriter(new java.io.Writer() {
            private boolean lineStart = true;

            @Override
            public void write(char[] buf, int off, int len) {
                for (int i = off; i < off + len; i++) {
                    if (lineStart) {
                        out.write("  ");
                    }
                    out.write(buf[i]);
                    lineStart = buf[i] == '\n';
                }
            }

            @Override
            public void flush() {
                out.flush();
            }

            @Override
            public void close() {
                flush();
            }
        }, true);
    }
}
