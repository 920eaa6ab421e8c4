package dev.tandem;

/** What a schedule does with ticks it missed while no executor was running (see {@link ScheduleOptions}). */
public enum CatchUp {
    /** Runs only ticks at most one minute late; older missed ticks are skipped (and logged). */
    SKIP,
    /** Runs every missed tick, oldest first, up to 1,000 per pass of the scheduler (about one per second). */
    BACKFILL
}
