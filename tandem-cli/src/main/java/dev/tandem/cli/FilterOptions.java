package dev.tandem.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.WorkflowStatus;
import dev.tandem.admin.WorkflowFilter;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Which workflows a list or a bulk action applies to: every option is optional, and those given must all match. */
final class FilterOptions {
    @Option(names = {"-s", "--status"}, split = ",", paramLabel = "STATUS",
            description = "Any of these statuses (repeat it, or separate with commas; any case): ${COMPLETION-CANDIDATES}")
    List<WorkflowStatus> statuses = List.of();

    @Option(names = {"-n", "--name"}, paramLabel = "NAME", description = "The workflow's registered name")
    @Nullable String name;

    @Option(names = {"-q", "--queue"}, paramLabel = "QUEUE", description = "The queue it was enqueued in")
    @Nullable String queue;

    @Option(names = "--executor", paramLabel = "ID", description = "The executor that runs (or last ran) it")
    @Nullable String executor;

    @Option(names = "--parent", paramLabel = "ID", description = "The children of this workflow")
    @Nullable String parent;

    @Option(names = "--id-prefix", paramLabel = "TEXT", description = "Its id starts with this text")
    @Nullable String idPrefix;

    @Option(names = "--since", paramLabel = "TIME", converter = Args.TimeConverter.class,
            description = "Created at or after: a duration ago (1h, 30m, 7d) or a time (2026-11-29T02:00:00Z, 2026-11-29)")
    Args.@Nullable TimeArg since;

    @Option(names = "--until", paramLabel = "TIME", converter = Args.TimeConverter.class,
            description = "Created before: a duration ago or a time, as --since")
    Args.@Nullable TimeArg until;

    @Option(names = "--input-contains", paramLabel = "JSON", converter = Args.JsonConverter.class,
            description = "Its input contains this JSON object or array, e.g. '{\"customer\":\"ada\"}'")
    @Nullable JsonNode inputContains;

    @Option(names = "--output-contains", paramLabel = "JSON", converter = Args.JsonConverter.class,
            description = "Its output contains this JSON object or array")
    @Nullable JsonNode outputContains;

    WorkflowFilter filter(Instant now) {
        return new WorkflowFilter(statuses.isEmpty() ? EnumSet.noneOf(WorkflowStatus.class) : EnumSet.copyOf(statuses),
                name, queue, executor, since == null ? null : since.resolve(now),
                until == null ? null : until.resolve(now), idPrefix, parent, inputContains, outputContains);
    }
}
