//! Nothing: the generator is the `uniffi-bindgen` binary. This library exists only so that
//! `caseward-ffi` can list this crate as a dev-dependency, which makes maturin carry the crate
//! in the Python package's sdist (see `bindings/Cargo.toml`).
