/**
 * The payments benchmark: Tandem, DBOS Transact and a bare-JDBC baseline run the same workload
 * (pure step {@code quote}, transactional step {@code charge}, pure step {@code receipt}) one after
 * another against the same PostgreSQL database, and {@link dev.tandem.bench.Bench} reports their
 * throughput, single-run latency and commits per workflow.
 *
 * <p>Run it with {@code java -jar tandem-bench/target/tandem-bench.jar payments --database-url URL}.
 * This module is a tool, not part of the published library.
 */
package dev.tandem.bench;
