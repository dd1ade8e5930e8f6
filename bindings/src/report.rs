//! The board report's inputs that are not in the records.

use std::collections::HashMap;

/// Site-level inputs of a board report that are not in the records. Each maps a site id to a
/// number; an empty map leaves its use out (tables 02 and 06 are then omitted, with why).
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ReportInputs {
    /// Funded slots per site (indicator 1's denominator; carried in the report).
    #[uniffi(default)]
    pub capacity: HashMap<String, u64>,
    /// Randomly selected people who declined the offer, per site, for the quarter closing in
    /// the period (table 02).
    #[uniffi(default)]
    pub declined_offers: HashMap<String, u64>,
    /// CMPP expenditure per site in whole dollars, for the fiscal year closing in the period
    /// (table 06, in September's report).
    #[uniffi(default)]
    pub expenditure_usd: HashMap<String, u64>,
    /// Publishes new numbers for a period already released, for this reason (the report
    /// states it). Without it, asking for a released period returns the same signed report.
    #[uniffi(default)]
    pub revise: Option<String>,
}
