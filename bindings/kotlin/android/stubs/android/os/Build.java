package android.os;

/**
 * Compile-only stand-in for the two members of android.os.Build that uniffi's Android glue
 * (`android = true`) reads. Never packaged: build-aar.sh checks that classes.jar has no android/
 * class and that the glue references nothing of Android beyond these and SystemCleaner.cleaner().
 * As on Android, SDK_INT is not a compile-time constant (there it comes from a system
 * property at boot), so the compiled check reads it at run time. Here it reads the system
 * property android.sdk.int, for the JVM test of the Android flavour.
 */
public class Build {
    public static class VERSION {
        public static final int SDK_INT = Integer.getInteger("android.sdk.int", 0);
    }

    public static class VERSION_CODES {
        /** Android 14, as in the SDK: a constant the compiler inlines. */
        public static final int UPSIDE_DOWN_CAKE = 34;
    }
}
