package dev.tandem.admin.model;

import java.util.Map;

/** How many workflows match a filter, per status (every status present, zero included), and in all. */
public record StatusCounts(Map<String, Long> byStatus, long total) {}
