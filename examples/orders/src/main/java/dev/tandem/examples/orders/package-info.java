/**
 * A runnable demo of Tandem: orders are paid and the warehouse is notified, by a worker that is killed with SIGKILL
 * partway through a batch. A new worker with the same executor id resumes the interrupted workflows from their
 * checkpoints, and the demo then proves that every order was charged exactly once.
 *
 * <p>Run it with {@code java -jar examples/orders/target/orders.jar [--database-url URL] [--orders N] [--no-crash]}.
 * {@link dev.tandem.examples.orders.OrderWorkflow} is the part to read first: it is the workflow itself.
 *
 * <p>{@code java -jar orders.jar serve [--database-url URL]} runs a worker until stopped instead: every row inserted
 * into table {@code orders} (by psql, say) starts workflow {@code process_order} for it, through a trigger
 * ({@code serve.sql}) that calls {@code tandem.enqueue_workflow}. See {@link dev.tandem.examples.orders.Serve} and
 * {@link dev.tandem.examples.orders.ServeWorkflow}.
 */
package dev.tandem.examples.orders;
