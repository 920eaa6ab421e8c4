package dev.tandem.admin.model;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A page of workflows, newest first, and the cursor of the next page ({@code null} on the last page). A cursor is
 * a position (creation time and id), not an offset: pages neither repeat nor skip a workflow when others are created
 * meanwhile, and a page deep in the list costs what the first does.
 */
public record WorkflowPage(List<WorkflowRow> workflows, @Nullable String next) {}
