package dev.tandem.internal.exec;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that run workflow code. On Java 21+ one virtual thread per execution, so thousands of executions that
 * wait on the database hold no platform thread; on Java 17 a fixed pool (executions beyond it wait their turn in
 * memory, already durable). The library is compiled for 17, so the virtual-thread API is looked up at run time.
 */
final class WorkflowThreads {
    private WorkflowThreads() {}

    static boolean virtualThreadsAvailable() {
        return Runtime.version().feature() >= 21;
    }

    static ExecutorService create(boolean virtual, int poolSize) {
        if (virtual && virtualThreadsAvailable()) {
            try {
                Object builder = MethodHandles.publicLookup()
                        .findStatic(Thread.class, "ofVirtual", MethodType.methodType(Class.forName("java.lang.Thread$Builder$OfVirtual")))
                        .invoke();
                Class<?> builderType = Class.forName("java.lang.Thread$Builder");
                builder = MethodHandles.publicLookup()
                        .findVirtual(builderType, "name", MethodType.methodType(builderType, String.class, long.class))
                        .invoke(builder, "tandem-workflow-", 0L);
                ThreadFactory factory = (ThreadFactory) MethodHandles.publicLookup()
                        .findVirtual(builderType, "factory", MethodType.methodType(ThreadFactory.class))
                        .invoke(builder);
                return (ExecutorService) MethodHandles.publicLookup()
                        .findStatic(Executors.class, "newThreadPerTaskExecutor",
                                MethodType.methodType(ExecutorService.class, ThreadFactory.class))
                        .invoke(factory);
            } catch (Throwable e) {
                throw new IllegalStateException("cannot create virtual threads on Java " + Runtime.version(), e);
            }
        }
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(poolSize, poolSize, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "tandem-workflow-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true); // after a burst, idle threads go: parked workflows need none
        return pool;
    }
}
