package dev.tandem.bench;

import java.sql.SQLException;

/** The payments workflow as DBOS sees it: DBOS proxies an interface. */
public interface DbosPaymentsWorkflow {
  /** Runs payment {@code i} and returns its receipt. */
  String pay(int i) throws SQLException;
}
