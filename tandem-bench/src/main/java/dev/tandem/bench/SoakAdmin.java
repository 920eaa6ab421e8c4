package dev.tandem.bench;

import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.WorkflowStatus;
import dev.tandem.admin.Operations;
import dev.tandem.admin.WorkflowFilter;
import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The operators' queries, run as the dashboard, the HTTP API and the CLI run them: through {@link
 * Operations} over a pool of one connection (the statements of {@code ops.sql}, bound by {@code
 * OpsStore}). Each is run once to warm up, then {@value #RUNS} times; its time is the median.
 *
 * <p>Plans come from the same calls on a second {@link Operations} whose connection has {@code
 * auto_explain} loaded (every statement, {@code ANALYZE} and {@code BUFFERS}, reported to the client
 * as a NOTICE): the plans of the statements those calls really ran, with their real parameters, not
 * of copies of them.
 */
final class SoakAdmin implements AutoCloseable {
  static final int RUNS = 5;

  /** One operators' read: a short label and the call the dashboard or the CLI makes. */
  record Query(String label, Function<Operations, Object> call) {}

  static final List<Query> QUERIES = List.of(
      new Query("recent", ops -> ops.listWorkflows(WorkflowFilter.all(), null, 50)),
      new Query("status_error",
          ops -> ops.listWorkflows(WorkflowFilter.all().statuses(WorkflowStatus.ERROR), null, 50)),
      new Query("status_retries", ops -> ops.listWorkflows(
          WorkflowFilter.all().statuses(WorkflowStatus.RETRIES_EXCEEDED), null, 50)),
      new Query("name_refund",
          ops -> ops.listWorkflows(WorkflowFilter.all().name("refund"), null, 50)),
      new Query("name_status", ops -> ops.listWorkflows(
          WorkflowFilter.all().name("charge_card").statuses(WorkflowStatus.ERROR), null, 50)),
      new Query("counts", ops -> ops.countWorkflows(WorkflowFilter.all())),
      new Query("counts_name", ops -> ops.countWorkflows(WorkflowFilter.all().name("refund"))),
      new Query("stuck", ops -> ops.stuck(200)),
      new Query("queues", Operations::queues),
      new Query("executors", Operations::executors));

  /** What auto_explain said about one statement: its duration, its buffers and its scans. */
  record Plan(String label, double millis, String buffers, List<String> scans, String text) {
    String summary() {
      return String.format("%.1f ms, %s; %s", millis, buffers, String.join("; ", scans));
    }
  }

  private final HikariDataSource pool;
  private final Operations ops;
  private final Connection explained;
  private final List<SQLWarning> notices = new ArrayList<>();
  private final Operations explaining;

  SoakAdmin(String url) throws SQLException {
    pool = Pools.fixed(url, "soak-admin", 1, true);
    ops = Operations.over(pool);
    explained = DriverManager.getConnection(url);
    Sql.execute(explained, "LOAD 'auto_explain'");
    Sql.execute(explained, "SET auto_explain.log_min_duration = 0");
    Sql.execute(explained, "SET auto_explain.log_analyze = on");
    Sql.execute(explained, "SET auto_explain.log_buffers = on");
    Sql.execute(explained, "SET auto_explain.log_level = notice");
    Sql.execute(explained, "SET client_min_messages = notice");
    explaining = Operations.over(new OneConnection(explained, notices));
  }

  /** Each query's median time in milliseconds over {@value #RUNS} runs, after one warm-up run. */
  Map<String, Double> time() {
    Map<String, Double> millis = new LinkedHashMap<>();
    for (Query q : QUERIES) {
      q.call().apply(ops);
      long[] nanos = new long[RUNS];
      for (int k = 0; k < RUNS; k++) {
        long t0 = System.nanoTime();
        q.call().apply(ops);
        nanos[k] = System.nanoTime() - t0;
      }
      millis.put(q.label(), Load.Latencies.of(nanos).percentileMillis(0.5));
    }
    return millis;
  }

  /** Each query's plans (one per statement it ran), through auto_explain. */
  Map<String, List<Plan>> plans() {
    Map<String, List<Plan>> plans = new LinkedHashMap<>();
    for (Query q : QUERIES) {
      notices.clear();
      q.call().apply(explaining);
      // A statement inside a transaction (Operations reads in one) ends, and auto_explain speaks, when its portal
      // closes: at the next statement, whose warnings hold it, or at the commit, whose land on the connection.
      try {
        for (SQLWarning w = explained.getWarnings(); w != null; w = w.getNextWarning()) {
          notices.add(w);
        }
        explained.clearWarnings();
      } catch (SQLException e) {
        throw new IllegalStateException("cannot read the plans of " + q.label(), e);
      }
      List<Plan> each = new ArrayList<>();
      for (SQLWarning w : notices) {
        Plan p = parse(q.label(), w.getMessage());
        if (p != null) {
          each.add(p);
        }
      }
      plans.put(q.label(), each);
    }
    return plans;
  }

  private static final Pattern DURATION = Pattern.compile("duration: ([0-9.]+) ms");
  private static final Pattern BUFFERS = Pattern.compile("Buffers: (.*)");
  private static final Pattern SCAN = Pattern.compile(
      "((?:Parallel )?Seq Scan|Index Scan(?: Backward)?|Index Only Scan(?: Backward)?"
          + "|Bitmap Heap Scan|Bitmap Index Scan) (?:using (\\S+) )?on (\\S+).*?"
          + "\\(actual time=[0-9.]+\\.\\.[0-9.]+ rows=(\\d+) loops=(\\d+)\\)");
  private static final Pattern REMOVED = Pattern.compile("Rows Removed by (?:Filter|Index Recheck): (\\d+)");

  /** The duration, the first (the whole statement's) buffers line and the scans of one plan. */
  static Plan parse(String label, String message) {
    Matcher d = DURATION.matcher(message);
    if (!d.find()) {
      return null;
    }
    String buffers = "no buffers";
    List<String> scans = new ArrayList<>();
    StringBuilder current = null;
    for (String line : message.split("\n")) {
      Matcher b = BUFFERS.matcher(line);
      if (buffers.equals("no buffers") && b.find()) {
        buffers = "buffers " + b.group(1).replace("shared ", "");
      }
      Matcher s = SCAN.matcher(line);
      if (s.find()) {
        if (current != null) {
          scans.add(current.toString());
        }
        current = new StringBuilder(s.group(1)).append(' ')
            .append(s.group(2) != null ? s.group(2) : s.group(3))
            .append(" rows=").append(s.group(4)).append('x').append(s.group(5));
        continue;
      }
      Matcher r = REMOVED.matcher(line);
      if (current != null && r.find()) {
        current.append(" removed=").append(r.group(1));
      }
      if (line.contains("->")) {
        if (current != null) {
          scans.add(current.toString());
        }
        current = null;
      }
    }
    if (current != null) {
      scans.add(current.toString());
    }
    return new Plan(label, Double.parseDouble(d.group(1)), buffers, scans, message);
  }

  @Override
  public void close() throws SQLException {
    pool.close();
    explained.close();
  }

  /**
   * A DataSource that hands out one connection and keeps it open; each statement made on it hands
   * its warnings (auto_explain's NOTICEs) to {@code notices} when it is closed.
   */
  private static final class OneConnection implements DataSource {
    private final Connection connection;
    private final List<SQLWarning> notices;

    OneConnection(Connection connection, List<SQLWarning> notices) {
      this.connection = connection;
      this.notices = notices;
    }

    @Override
    public Connection getConnection() {
      InvocationHandler h = (proxy, method, args) -> {
        if (method.getName().equals("close")) {
          return null; // kept open: auto_explain stays loaded
        }
        Object result = invoke(method, connection, args);
        if (result instanceof Statement statement) {
          Class<?> type = result instanceof PreparedStatement ? PreparedStatement.class : Statement.class;
          return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {type},
              (p, m, a) -> {
                if (m.getName().equals("close")) {
                  for (SQLWarning w = statement.getWarnings(); w != null; w = w.getNextWarning()) {
                    notices.add(w);
                  }
                }
                return invoke(m, statement, a);
              });
        }
        return result;
      };
      return (Connection) Proxy.newProxyInstance(
          getClass().getClassLoader(), new Class<?>[] {Connection.class}, h);
    }

    private static Object invoke(java.lang.reflect.Method m, Object target, Object[] args)
        throws Throwable {
      try {
        return m.invoke(target, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    }

    @Override
    public Connection getConnection(String user, String password) {
      return getConnection();
    }

    @Override
    public PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public Logger getParentLogger() {
      return Logger.getGlobal();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
      throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
      return false;
    }
  }
}
