package dev.tandem.internal.exec;

import dev.tandem.WorkflowFunction;

/** A workflow type known to this engine. */
record RegisteredWorkflow<I, O>(String name, Class<I> inputType, WorkflowFunction<I, O> function) {}
