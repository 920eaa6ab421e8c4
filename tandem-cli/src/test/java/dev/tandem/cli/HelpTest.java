package dev.tandem.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command has --help with examples, and completion is generated. No database needed. */
class HelpTest {
    static void collect(CommandLine cl, List<List<String>> paths, List<String> path) {
        paths.add(path);
        cl.getSubcommands().forEach((name, sub) -> {
            List<String> next = new ArrayList<>(path);
            next.add(name);
            collect(sub, paths, next);
        });
    }

    @Test
    void everyCommandHasHelpWithExamples() {
        List<List<String>> paths = new ArrayList<>();
        collect(TandemCli.commandLine(new Session(new java.io.PrintWriter(java.io.Writer.nullWriter()),
                new java.io.PrintWriter(java.io.Writer.nullWriter()), java.util.Map.of(), false, java.time.Instant::now)),
                paths, List.of());
        assertThat(paths).hasSizeGreaterThan(20);
        for (List<String> path : paths) {
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            CliRun r = CliRun.run(null, args.toArray(String[]::new));
            assertThat(r.code()).as(path + "\n" + r).isZero();
            assertThat(r.out()).as(path.toString()).startsWith("Usage: tandem");
            if (!path.equals(List.of("generate-completion"))) {
                assertThat(r.out()).as(path + " has examples").contains("Examples:");
            }
        }
    }

    @Test
    void completionIsABashScript() {
        CliRun r = CliRun.run(null, "generate-completion");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("complete -F", "workflows", "resume-all");
    }

    @Test
    void noCommandIsBadInputThatListsTheCommands() {
        CliRun r = CliRun.run(null);
        assertThat(r.code()).isEqualTo(ExitCode.BAD_INPUT);
        assertThat(r.err()).contains("give a command: workflows, queues");
    }
}
