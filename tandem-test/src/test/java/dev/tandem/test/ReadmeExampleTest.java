package dev.tandem.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.Workflow;
import dev.tandem.WorkflowHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The README's test-kit example, run as written; {@link #theReadmeShowsThisFile} keeps the two the same. */
@TandemTest
class ReadmeExampleTest {
    // README:begin
    Workflow<String, String> approval(TandemKit kit) {
        return kit.register("approval", String.class, (ctx, doc) -> {
            ctx.step("ask", () -> "asked for " + doc);
            String answer = ctx.recv("decision", String.class, Duration.ofDays(30));
            return answer == null ? "expired" : answer;
        });
    }

    @Test
    void expiresAfterThirtyDays(TandemKit kit) {
        WorkflowHandle<String> h = approval(kit).start("doc-7");
        kit.clock().autoSkip();                                 // time passes whenever all wait on it
        kit.assertWorkflow(h).succeededWith("expired");         // 30 days, in milliseconds
    }

    @Test
    void approvedOnDayTwo(TandemKit kit) {
        WorkflowHandle<String> h = approval(kit).start("doc-8");
        kit.clock().advance(Duration.ofDays(2));
        kit.assertWorkflow(h).isWaitingOn("message on topic 'decision'");
        kit.tandem().send(h.workflowId(), "decision", "approved");
        kit.assertWorkflow(h).succeededWith("approved").received("decision").ranStep("ask", 1);
    }

    @Test
    void asksOnceThroughACrash(TandemKit kit) {
        WorkflowHandle<String> h = approval(kit).start("doc-9");
        kit.assertWorkflow(h).isWaitingOn("message");           // "ask" ran, its checkpoint is written
        kit.restart();                                          // the executor dies; a new one resumes
        kit.tandem().send(h.workflowId(), "decision", "approved");
        kit.assertWorkflow(h).succeededWith("approved").ranStep("ask", 1);
    }
    // README:end

    @Test
    void theReadmeShowsThisFile() throws Exception {
        String source = Files.readString(Path.of("src/test/java/dev/tandem/test/ReadmeExampleTest.java"));
        String example = source.substring(source.indexOf("// README:begin\n") + "// README:begin\n".length(),
                source.indexOf("    // README:end"));
        assertThat(Files.readString(Path.of("../README.md"))).contains(example);
    }
}
