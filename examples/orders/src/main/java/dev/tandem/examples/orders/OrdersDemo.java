package dev.tandem.examples.orders;

import java.util.Arrays;

/**
 * Entry point: the crash demo (the default), {@code serve} mode, or the hidden {@code worker} subcommand that the crash
 * demo runs in child JVMs.
 */
public final class OrdersDemo {
    private OrdersDemo() {}

    public static void main(String[] args) {
        int exitCode;
        try {
            if (args.length > 0 && args[0].equals(OrderWorker.COMMAND)) {
                exitCode = OrderWorker.run(Arrays.copyOfRange(args, 1, args.length));
            } else if (args.length > 0 && args[0].equals(Serve.COMMAND)) {
                exitCode = Serve.run(Arrays.copyOfRange(args, 1, args.length));
            } else {
                DemoOptions options = DemoOptions.parse(args);
                if (options.help()) {
                    System.out.print(DemoOptions.USAGE);
                    System.out.println();
                    System.out.print(Serve.USAGE);
                    exitCode = 0;
                } else {
                    exitCode = Demo.run(options);
                }
            }
        } catch (DemoOptions.UsageException e) {
            System.err.println(e.getMessage());
            System.err.println("Run with --help for usage.");
            exitCode = 2;
        } catch (Exception e) {
            System.err.println("demo failed: " + e);
            e.printStackTrace();
            exitCode = 1;
        }
        System.out.flush();
        // Exit explicitly: the JDBC driver and the thread pools must not keep the JVM alive.
        System.exit(exitCode);
    }
}
