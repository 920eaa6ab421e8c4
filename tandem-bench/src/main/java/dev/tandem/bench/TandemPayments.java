package dev.tandem.bench;

public final class TandemPayments implements AutoCloseable {
  public TandemPayments(String jdbcUrl, int concurrency) {
    throw new UnsupportedOperationException("written by the lead");
  }

  public void runOne(int i) throws Exception {
    throw new UnsupportedOperationException("written by the lead");
  }

  public double throughput(int workflows, int concurrency) throws Exception {
    throw new UnsupportedOperationException("written by the lead");
  }

  @Override
  public void close() {
    throw new UnsupportedOperationException("written by the lead");
  }
}
