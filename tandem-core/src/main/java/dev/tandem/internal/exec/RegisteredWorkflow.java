package dev.tandem.internal.exec;

import dev.tandem.WorkflowFunction;

/** A workflow type known to this engine. */
record RegisteredWorkflow<I, O>(String name, Class<I> inputType, WorkflowFunction<I, O> function) {

    /** A registration; {@code int.class} and the like stand for their boxes, since inputs arrive as objects. */
    @SuppressWarnings("unchecked")
    static <I, O> RegisteredWorkflow<I, O> of(String name, Class<I> inputType, WorkflowFunction<I, O> function) {
        Class<I> boxed = (Class<I>) java.lang.invoke.MethodType.methodType(inputType).wrap().returnType();
        return new RegisteredWorkflow<>(name, boxed, function);
    }
}
