package dev.tandem.bench;

/** The queue benchmark's workflow as DBOS sees it: DBOS proxies an interface. */
public interface DbosQueueWorkflow {
  /** One trivial step: returns {@code i + 1}. */
  int addOne(int i);
}
