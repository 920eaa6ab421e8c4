/**
 * The execution engine: the registry of workflow types, running executions and their contexts, the group committer
 * that batches checkpoints of many workflows into one commit, and recovery of orphaned executions.
 */
@NullMarked
package dev.tandem.internal.exec;

import org.jspecify.annotations.NullMarked;
