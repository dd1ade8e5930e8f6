//! Placeholder: never compiled on non-wasm targets.
