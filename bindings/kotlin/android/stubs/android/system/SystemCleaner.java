package android.system;

import java.lang.ref.Cleaner;

/**
 * Compile-only stand-in for android.system.SystemCleaner (API 33), which uniffi's Android glue
 * uses from API 34 on. Never packaged. On the JVM test of the Android flavour it hands out a
 * JDK Cleaner, so that code path runs.
 */
public final class SystemCleaner {
    private static final Cleaner CLEANER = Cleaner.create();

    private SystemCleaner() {}

    public static Cleaner cleaner() {
        return CLEANER;
    }
}
