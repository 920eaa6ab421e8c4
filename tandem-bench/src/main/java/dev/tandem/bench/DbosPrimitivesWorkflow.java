package dev.tandem.bench;

/** The primitives benchmark's workflows as DBOS sees them: DBOS proxies an interface. */
public interface DbosPrimitivesWorkflow {
  /** {@code n} times: receives a message, then marks when it arrived in a step. */
  int receive(int n);

  /** {@code n} times: receives message {@code k}, sets event {@code e<k>}, then marks when. */
  int events(int n);
}
