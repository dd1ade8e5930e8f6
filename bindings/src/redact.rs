//! `Debug` for the types that carry client data: it prints the type's name and nothing else.

/// A Debug that prints the type's name only: these records carry client data, and a Rust
/// caller's log line must not (as the core's records).
macro_rules! redacted_debug {
    ($($t:ty),* $(,)?) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), " { [redacted] }"))
            }
        }
    )*};
}

pub(crate) use redacted_debug;
