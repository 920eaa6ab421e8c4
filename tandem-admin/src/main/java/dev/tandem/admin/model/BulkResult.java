package dev.tandem.admin.model;

import java.util.List;

/**
 * What a bulk action did to the workflows a filter matched, of those it applies to ({@code matched}); how many it
 * changed ({@code affected}; for a dry run, none), and the first of their ids ({@code sample}, at most
 * {@value #SAMPLE}).
 */
public record BulkResult(String action, boolean dryRun, long matched, long affected, List<String> sample) {
    public static final int SAMPLE = 20;
}
