//! `uniffi-bindgen`, built from this workspace so the generator always matches the runtime that
//! `caseward-ffi` links (a mismatch fails at load time with a contract-version error).
fn main() {
    uniffi::uniffi_bindgen_main()
}
