package dev.tandem.cli;

import dev.tandem.admin.model.ActionResult;
import dev.tandem.admin.model.ScheduleRow;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tandem schedules ...}: the cron schedules of {@code tandem.schedules}, and the actions on them. */
@Command(name = "schedules", description = "List cron schedules; pause, resume, trigger or backfill one",
        subcommands = {SchedulesCommand.ListCommand.class, SchedulesCommand.Pause.class, SchedulesCommand.Resume.class,
            SchedulesCommand.Trigger.class, SchedulesCommand.Backfill.class},
        footer = {"", "Examples:", "  tandem schedules list", "  tandem schedules pause nightly",
            "  tandem schedules backfill nightly --from 2026-11-01 --to 2026-11-08"})
final class SchedulesCommand {

    @Command(name = "list", description = "Every schedule: its workflow, cron, time zone, state and next tick",
            footer = {"", "Examples:", "  tandem schedules list", "  tandem schedules list --json"})
    static final class ListCommand extends BaseCommand.WithDatabase {
        @Mixin
        OutputOptions output;

        @Override
        public Integer call() {
            Session s = session();
            List<ScheduleRow> schedules = ops().schedules();
            if (output.json) {
                OutputOptions.printJson(s, schedules);
                return ExitCode.OK;
            }
            Style st = s.style();
            Table table = new Table(st).column("SCHEDULE", 28).column("WORKFLOW", 24).column("CRON", 20)
                    .column("TIME ZONE", 20).column("QUEUE", 12).column("STATE", 6,
                            (padded, raw) -> raw.equals("paused") ? st.yellow(padded) : st.green(padded))
                    .column("NEXT TICK", 10).column("LAST TICK", 10).column("CATCH-UP", 8);
            for (ScheduleRow r : schedules) {
                table.row(r.name(), r.workflowName(), r.cron(), r.timeZone(), r.queueName(),
                        r.paused() ? "paused" : "active", r.paused() ? "" : Text.age(r.nextTick(), s.now()),
                        r.lastTick() == null ? "never" : Text.age(r.lastTick(), s.now()), r.catchUp());
            }
            ClusterCommands.printOr(s, table, "no schedules");
            return ExitCode.OK;
        }
    }

    /** An action on one schedule, by name. */
    abstract static class OnSchedule extends BaseCommand.WithDatabase {
        @Parameters(index = "0", paramLabel = "NAME", description = "The schedule's name")
        String name;

        @Mixin
        ActorOptions actor;

        @Mixin
        OutputOptions output;

        abstract ActionResult act();

        @Override
        public Integer call() {
            ActionResult result = act();
            Session s = session();
            if (output.json) {
                OutputOptions.printJson(s, result);
            } else {
                s.out().println(name + ": " + result.outcome());
                s.out().flush();
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "pause", description = "Stop starting ticks until resumed (a no-op on a paused schedule)",
            footer = {"", "Examples:", "  tandem schedules pause nightly"})
    static final class Pause extends OnSchedule {
        @Override
        ActionResult act() {
            return ops().pauseSchedule(name, actor.actor());
        }
    }

    @Command(name = "resume", description = "Start ticks again, from the first one after now",
            footer = {"", "Examples:", "  tandem schedules resume nightly"})
    static final class Resume extends OnSchedule {
        @Override
        ActionResult act() {
            return ops().resumeSchedule(name, actor.actor());
        }
    }

    @Command(name = "trigger", description = "Enqueue one run of the schedule's workflow now, paused or not",
            footer = {"", "Examples:", "  tandem schedules trigger nightly"})
    static final class Trigger extends OnSchedule {
        @Override
        ActionResult act() {
            return ops().triggerSchedule(name, actor.actor());
        }
    }

    @Command(name = "backfill", description = "Enqueue every tick in [FROM, TO) not already started (at most 10,000),"
            + " oldest first; repeating it enqueues nothing more",
            footer = {"", "Examples:", "  tandem schedules backfill nightly --from 2026-11-01 --to 2026-11-08",
                "  tandem schedules backfill nightly --from 3d --to 1h        # from 3 days ago to an hour ago"})
    static final class Backfill extends OnSchedule {
        @Option(names = "--from", required = true, paramLabel = "TIME", converter = Args.TimeConverter.class,
                description = "First tick at or after: a time (2026-11-01, 2026-11-01T03:00:00Z) or a duration ago (3d)")
        Args.TimeArg from;

        @Option(names = "--to", required = true, paramLabel = "TIME", converter = Args.TimeConverter.class,
                description = "Ticks strictly before: a time or a duration ago")
        Args.TimeArg to;

        @Override
        ActionResult act() {
            var now = session().now();
            return ops().backfillSchedule(name, from.resolve(now), to.resolve(now), actor.actor());
        }
    }
}
