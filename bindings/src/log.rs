//! The result of verifying the disclosure log (`verify_log`).

/// The result of verifying the disclosure log.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LogStatus {
    pub intact: bool,
    pub entries: u64,
    /// `cwlog1:<seq>:<hash>` when intact and not empty.
    pub head: Option<String>,
    /// What is wrong, when broken.
    pub problem: Option<String>,
}
