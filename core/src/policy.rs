//! The disclosure policy: a TOML file of rules that say, for each audience and data category,
//! how a value may leave the vault. Loading validates it; its BLAKE3 hash is its identity.
//!
//! A policy is written for reviewers. Each rule names one audience, one treatment and the
//! categories it covers, and says why:
//!
//! ```toml
//! format = 1
//! kind = "base"            # or "overlay"
//! name = "caseward default"
//!
//! [[rule]]
//! id = "ice-floor-identity"
//! audience = "ice"
//! treatment = "reveal"
//! categories = ["identifier.alien_number", "identifier.name.dhs"]
//! why = "ICE issued the A-number and the name on its paperwork (docs/law.md#ice-floor)."
//! ```
//!
//! How a cell (audience x category) is decided:
//! * **Default deny.** A cell no rule covers is `deny`.
//! * **Most specific rule wins.** An exact name beats a wildcard (`health.*`), a longer wildcard
//!   beats a shorter one, and `*` is the weakest. Two rules of the same specificity that cover
//!   the same cell are an error (a *duplicate* if they agree, a *conflict* if they do not), so
//!   the order of rules never matters.
//! * **Ceilings are code.** [`crate::firewall::ceiling`] caps every cell; above all, the `ice`
//!   column can never exceed the ICE floor (`docs/law.md#ice-floor`). A rule that grants more
//!   is rejected when the file is loaded, with the file, line and rule named.
//! * **Overlays only tighten.** A site overlay (`kind = "overlay"`) may set any cell to a
//!   treatment that discloses no more than the base did; one that widens anything is rejected.
//! * A `partner:<id>` rule may only narrow what the generic `partner` rules give.
//!
//! Treatments, from most to least disclosure: `reveal`, `consent` (reveal only under an active,
//! written, time-limited consent naming that recipient and category), `pseudonymize`, `coarsen`,
//! `aggregate` (only inside a disclosure-controlled table), `deny`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::error::{Error, Result};
use crate::firewall;

/// The policy format this crate reads.
pub const FORMAT: u32 = 1;

/// The default policy shipped with caseward (`policies/default.toml`): the category x audience
/// matrix; the facts behind each rule are in `docs/law.md#category-families`.
pub const DEFAULT_POLICY: &str = include_str!("../../policies/default.toml");

/// How a category may leave for an audience. Ordered from least to most disclosure, so `a < b`
/// means `a` discloses less.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Treatment {
    /// Never leaves.
    Deny,
    /// Only as a count inside a disclosure-controlled table.
    Aggregate,
    /// Coarsened microdata (year of birth, age band, month).
    Coarsen,
    /// A keyed pseudonym.
    Pseudonymize,
    /// Revealed only under an active consent naming the recipient and the category.
    Consent,
    /// Revealed.
    Reveal,
}

impl Treatment {
    /// Every treatment, least disclosure first.
    pub const ALL: [Treatment; 6] =
        [Self::Deny, Self::Aggregate, Self::Coarsen, Self::Pseudonymize, Self::Consent, Self::Reveal];

    /// The name used in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::Aggregate => "aggregate",
            Self::Coarsen => "coarsen",
            Self::Pseudonymize => "pseudonymize",
            Self::Consent => "consent",
            Self::Reveal => "reveal",
        }
    }
}

impl fmt::Display for Treatment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Treatment {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| Error::input(format!("unknown treatment {}", crate::error::echo(s))))
    }
}

/// A partner organization's id, as policies and consents name it: 1 to 64 characters of
/// lowercase letters, digits, `-`, `_` and `.`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PartnerId(String);

impl PartnerId {
    /// Validates a partner id. The names of enforcement agencies are reserved (see
    /// [`is_reserved_partner`]): `partner:ice` must never be a way round the ICE floor.
    pub fn new(id: &str) -> Result<Self> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
        if !ok {
            return Err(Error::input("a partner id is 1 to 64 characters of a-z, 0-9, '-', '_' and '.'"));
        }
        if is_reserved_partner(id) {
            return Err(Error::input(
                "this partner id names an enforcement or immigration agency; those are not partners \
                 (ICE receives only the ICE notice)",
            ));
        }
        Ok(Self(id.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Words that name an enforcement or immigration agency, or a contractor that monitors people
/// for one (ISAP, GEO Group). No partner id may be built from them (see [`is_reserved_partner`]).
pub const RESERVED_PARTNER_WORDS: &[&str] = &[
    "ice",
    "ero",
    "hsi",
    "opla",
    "dhs",
    "cbp",
    "usbp",
    "ofo",
    "uscis",
    "ins",
    "eoir",
    "doj",
    "fbi",
    "dea",
    "atf",
    "usms",
    "marshal",
    "marshals",
    "police",
    "sheriff",
    "nypd",
    "lapd",
    "enforcement",
    "homeland",
    "customs",
    "patrol",
    "deportation",
    "detention",
    "jail",
    "isap",
    "geogroup",
];

/// Words that only qualify a name (`us`, `gov`, `hq` ...): `usice`, `icegov` and `dhs-hq` are
/// still agencies. Alone, they reserve nothing.
const QUALIFIER_WORDS: &[&str] =
    &["us", "gov", "hq", "dept", "agency", "office", "field", "local", "federal", "state", "county", "city"];

/// Whether `id` names an agency: some word of it (split at `-`, `_`, `.` and digits), or the
/// whole id with its separators and digits dropped (`i-c-e`), is made only of
/// [`RESERVED_PARTNER_WORDS`] and qualifiers, with at least one reserved word. So `ice`,
/// `ice-ero`, `dhs.ice`, `i-c-e`, `usice`, `icegov` and `dhsiceero` are refused, and
/// `justice-center`, `iceland-aid` and `servicios` are not. A list cannot name every agency;
/// the code's ceiling, not this list, is what keeps enforcement at the floor.
pub fn is_reserved_partner(id: &str) -> bool {
    let collapsed: String = id.chars().filter(char::is_ascii_lowercase).collect();
    id.split(|c: char| !c.is_ascii_lowercase())
        .chain(std::iter::once(collapsed.as_str()))
        .filter(|w| !w.is_empty())
        .any(agency_word)
}

/// Whether `w` splits wholly into reserved words and qualifiers, with a reserved word among
/// them (dynamic programming over prefixes: 0 = no split, 1 = qualifiers only, 2 = reserved).
fn agency_word(w: &str) -> bool {
    let n = w.len();
    let mut best = vec![0u8; n + 1];
    if let Some(first) = best.first_mut() {
        *first = 1;
    }
    for end in 1..=n {
        let mut here = 0u8;
        for (list, mark) in [(RESERVED_PARTNER_WORDS, 2u8), (QUALIFIER_WORDS, 1u8)] {
            for word in list {
                let Some(start) = end.checked_sub(word.len()) else { continue };
                let before = best.get(start).copied().unwrap_or(0);
                if before > 0 && w.get(start..end) == Some(*word) {
                    here = here.max(before.max(mark));
                }
            }
        }
        if let Some(slot) = best.get_mut(end) {
            *slot = here;
        }
    }
    best.get(n).copied() == Some(2)
}

impl TryFrom<String> for PartnerId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::new(&s)
    }
}

impl From<PartnerId> for String {
    fn from(p: PartnerId) -> String {
        p.0
    }
}

impl fmt::Display for PartnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who an output is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Audience {
    /// The assigned caseworker.
    Caseworker,
    /// The site supervisor.
    Supervisor,
    /// The client (right of access).
    Client,
    /// A legal or social-service partner.
    Partner(PartnerId),
    /// The National Board: aggregates only.
    Board,
    /// FEMA: counts and costs.
    Funder,
    /// The nonprofit evaluator under a data-use agreement (reserved; the default denies it all).
    Evaluator,
    /// ICE ERO: the floor, nothing more.
    Ice,
}

/// An audience without a partner id: the columns of the policy matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudienceClass {
    /// `caseworker`
    Caseworker,
    /// `supervisor`
    Supervisor,
    /// `client`
    Client,
    /// `partner` (every partner; `partner:<id>` rules narrow it for one)
    Partner,
    /// `board`
    Board,
    /// `funder`
    Funder,
    /// `evaluator`
    Evaluator,
    /// `ice`
    Ice,
}

impl AudienceClass {
    /// Every class, in the column order of `policy explain`.
    pub const ALL: [AudienceClass; 8] = [
        Self::Caseworker,
        Self::Supervisor,
        Self::Client,
        Self::Partner,
        Self::Board,
        Self::Funder,
        Self::Evaluator,
        Self::Ice,
    ];

    /// The name used in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Caseworker => "caseworker",
            Self::Supervisor => "supervisor",
            Self::Client => "client",
            Self::Partner => "partner",
            Self::Board => "board",
            Self::Funder => "funder",
            Self::Evaluator => "evaluator",
            Self::Ice => "ice",
        }
    }
}

impl Audience {
    /// The matrix column this audience reads.
    pub fn class(&self) -> AudienceClass {
        match self {
            Self::Caseworker => AudienceClass::Caseworker,
            Self::Supervisor => AudienceClass::Supervisor,
            Self::Client => AudienceClass::Client,
            Self::Partner(_) => AudienceClass::Partner,
            Self::Board => AudienceClass::Board,
            Self::Funder => AudienceClass::Funder,
            Self::Evaluator => AudienceClass::Evaluator,
            Self::Ice => AudienceClass::Ice,
        }
    }

    fn partner(&self) -> Option<&PartnerId> {
        match self {
            Self::Partner(p) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Partner(p) => write!(f, "partner:{p}"),
            other => f.write_str(other.class().as_str()),
        }
    }
}

impl FromStr for Audience {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if let Some(id) = s.strip_prefix("partner:") {
            return Ok(Self::Partner(PartnerId::new(id)?));
        }
        Ok(match s {
            "caseworker" => Self::Caseworker,
            "supervisor" => Self::Supervisor,
            "client" => Self::Client,
            "board" => Self::Board,
            "funder" => Self::Funder,
            "evaluator" => Self::Evaluator,
            "ice" => Self::Ice,
            "partner" => return Err(Error::input("name the partner: partner:<id>")),
            _ => return Err(Error::input(format!("unknown audience {}", crate::error::echo(s)))),
        })
    }
}

/// What is wrong with a policy file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyProblem {
    /// Not valid TOML, or a field is missing or of the wrong type.
    Syntax(String),
    /// The file's `format` is not one this crate reads.
    UnsupportedFormat(u32),
    /// A base was given where an overlay was expected, or the other way round.
    WrongKind {
        /// What was expected (`base` or `overlay`).
        expected: &'static str,
    },
    /// A category name or pattern that names no category.
    UnknownCategory(String),
    /// An audience that does not exist.
    UnknownAudience(String),
    /// A treatment that does not exist.
    UnknownTreatment(String),
    /// Two rules with the same id.
    DuplicateRuleId,
    /// Two rules of the same specificity give the same treatment to the same cell.
    DuplicateRule {
        /// The cell's category.
        category: Category,
        /// The other rule.
        other: String,
    },
    /// Two rules of the same specificity give different treatments to the same cell.
    ConflictingRule {
        /// The cell's category.
        category: Category,
        /// The other rule.
        other: String,
    },
    /// A rule grants more than the code allows this audience (for `ice`: beyond the floor).
    BeyondCeiling {
        /// The category.
        category: Category,
        /// What the rule grants.
        granted: Treatment,
        /// The most the code allows.
        ceiling: Treatment,
    },
    /// A `partner:<id>` that names an enforcement or immigration agency.
    ReservedPartner(String),
    /// The file, or the stack of files, is larger than caseward accepts.
    TooLarge(String),
    /// An overlay, or a `partner:<id>` rule, would disclose more than the base.
    Widens {
        /// The category.
        category: Category,
        /// What the rule grants.
        granted: Treatment,
        /// What the base gave.
        base: Treatment,
    },
}

impl fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(m) => write!(f, "{m}"),
            Self::UnsupportedFormat(v) => {
                write!(f, "policy format {v} is not supported (this caseward reads {FORMAT})")
            }
            Self::WrongKind { expected } => write!(f, "expected a policy of kind {expected:?}"),
            Self::UnknownCategory(c) => write!(f, "unknown category {c:?}"),
            Self::UnknownAudience(a) => write!(f, "unknown audience {a:?}"),
            Self::UnknownTreatment(t) => write!(f, "unknown treatment {t:?}"),
            Self::DuplicateRuleId => f.write_str("another rule has the same id"),
            Self::DuplicateRule { category, other } => {
                write!(f, "duplicates rule {other:?} for {category}")
            }
            Self::ConflictingRule { category, other } => {
                write!(f, "conflicts with rule {other:?} for {category}")
            }
            Self::BeyondCeiling { category, granted, ceiling } => {
                write!(f, "grants {granted} of {category}, beyond what caseward ever allows this audience ({ceiling})")
            }
            Self::ReservedPartner(p) => {
                write!(f, "partner:{p} names an enforcement or immigration agency; such a name is never a partner")
            }
            Self::TooLarge(what) => write!(f, "the policy is too large: {what}"),
            Self::Widens { category, granted, base } => {
                write!(f, "widens {category} from {base} to {granted}; an overlay may only narrow")
            }
        }
    }
}

/// A policy file that failed validation: which file, which line, which rule, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// The file as the caller named it.
    pub file: String,
    /// The 1-based line of the offending rule or value (0 when the problem has no line).
    pub line: usize,
    /// The offending rule's id, when the problem is in a rule.
    pub rule: Option<String>,
    /// What is wrong.
    pub problem: PolicyProblem,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(rule) = &self.rule {
            write!(f, "rule {rule:?}: ")?;
        }
        write!(f, "{}", self.problem)
    }
}

impl std::error::Error for PolicyError {}

/// A 32-byte BLAKE3 policy identity, shown as `blake3:<hex>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PolicyHash(pub [u8; 32]);

impl PolicyHash {
    /// Parses `blake3:<64 hex digits>`.
    pub fn parse(s: &str) -> Result<Self> {
        let hex = s.strip_prefix("blake3:").ok_or_else(|| Error::input("a policy hash starts with blake3:"))?;
        let h = blake3::Hash::from_hex(hex).map_err(|_| Error::input("a policy hash has 64 hex digits"))?;
        Ok(Self(*h.as_bytes()))
    }
}

impl fmt::Display for PolicyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "blake3:{}", blake3::Hash::from(self.0).to_hex())
    }
}

impl Serialize for PolicyHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Debug for PolicyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PolicyHash({self})")
    }
}

/// Where a cell's treatment came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Provenance {
    /// No rule covers the cell.
    Default,
    /// A rule in a file.
    Rule {
        /// The rule's id.
        id: String,
        /// The file.
        file: String,
        /// Its line.
        line: usize,
    },
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default deny"),
            Self::Rule { id, file, line } => write!(f, "{id} ({file}:{line})"),
        }
    }
}

/// One cell of the effective matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// The treatment.
    pub treatment: Treatment,
    /// The rule that produced it.
    pub provenance: Provenance,
}

/// The matrix column key: a class, or one named partner.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Column {
    class: AudienceClass,
    partner: Option<PartnerId>,
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.partner {
            Some(p) => write!(f, "partner:{p}"),
            None => f.write_str(self.class.as_str()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    format: u32,
    kind: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, rename = "rule")]
    rules: Vec<toml::Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    audience: toml::Spanned<String>,
    treatment: toml::Spanned<String>,
    categories: Vec<toml::Spanned<String>>,
    why: String,
}

/// A parsed, validated rule.
#[derive(Clone, Debug)]
struct Rule {
    id: String,
    file: String,
    line: usize,
    column: Column,
    treatment: Treatment,
    /// (pattern, line of the pattern)
    patterns: Vec<(Pattern, usize)>,
    categories: Vec<String>,
    why: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    Exact(Category),
    /// `prefix.*`: the prefix without the `.*`.
    Prefix(String),
    All,
}

impl Pattern {
    fn parse(s: &str) -> Option<Self> {
        if s == "*" {
            return Some(Self::All);
        }
        if let Some(prefix) = s.strip_suffix(".*") {
            let dotted = format!("{prefix}.");
            return Category::all().any(|c| c.as_str().starts_with(&dotted)).then(|| Self::Prefix(prefix.to_owned()));
        }
        s.parse().ok().map(Self::Exact)
    }

    fn matches(&self, c: Category) -> bool {
        match self {
            Self::Exact(e) => *e == c,
            Self::Prefix(p) => c.as_str().strip_prefix(p.as_str()).is_some_and(|rest| rest.starts_with('.')),
            Self::All => true,
        }
    }

    /// Higher wins: exact beats any wildcard, a longer prefix beats a shorter one.
    fn specificity(&self) -> usize {
        match self {
            Self::Exact(_) => usize::MAX,
            Self::Prefix(p) => 1 + p.len(),
            Self::All => 0,
        }
    }
}

/// The files of a policy, base first, as (file name, text).
#[derive(Serialize, Deserialize)]
pub(crate) struct PolicySources {
    pub(crate) files: Vec<(String, String)>,
}

/// One loaded policy file.
#[derive(Clone, Debug)]
struct PolicyFile {
    name: String,
    file: String,
    text: String,
    hash: [u8; 32],
    rules: Vec<Rule>,
}

/// A validated policy: a base file and any overlays, resolved into an effective matrix.
#[derive(Clone)]
pub struct Policy {
    files: Vec<PolicyFile>,
    hash: PolicyHash,
    cells: BTreeMap<(Column, Category), Cell>,
    columns: Vec<Column>,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy").field("hash", &self.hash).field("files", &self.files.len()).finish()
    }
}

/// The most a policy file may hold. The shipped default has about fifty rules; the bounds keep
/// a hostile or generated file from making every open slow.
pub const MAX_POLICY_BYTES: usize = 1 << 20;
/// The most rules one file may hold.
pub const MAX_RULES: usize = 4096;
/// The most overlays a policy may stack on its base.
pub const MAX_OVERLAYS: usize = 32;

/// The first of a policy's problems, as the error of the calls that stop at one.
fn first_problem(all: Vec<PolicyError>, file: &str) -> Error {
    Error::Policy(all.into_iter().next().unwrap_or_else(|| PolicyError {
        file: file.to_owned(),
        line: 0,
        rule: None,
        problem: PolicyProblem::Syntax("the policy could not be validated".into()),
    }))
}

/// Byte offsets of line starts, so a line number is a binary search rather than a rescan.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        Self(std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }

    /// The 1-based line holding `offset`.
    fn of(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset).max(1)
    }
}

/// Problems found so far; validation goes on after a problem where it can, so a reviewer sees
/// every one at once.
type Problems = Vec<PolicyError>;

fn parse_file(
    text: &str,
    file: &str,
    expected_kind: &'static str,
    problems: &mut Problems,
) -> Result<PolicyFile, PolicyError> {
    let err = |line: usize, rule: Option<&str>, problem| PolicyError {
        file: file.to_owned(),
        line,
        rule: rule.map(str::to_owned),
        problem,
    };
    if text.len() > MAX_POLICY_BYTES {
        return Err(err(0, None, PolicyProblem::TooLarge(format!("{} bytes; at most {MAX_POLICY_BYTES}", text.len()))));
    }
    let lines = Lines::new(text);
    let raw: RawPolicy = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| lines.of(s.start));
        err(line, None, PolicyProblem::Syntax(e.message().trim().to_owned()))
    })?;
    if raw.format != FORMAT {
        return Err(err(1, None, PolicyProblem::UnsupportedFormat(raw.format)));
    }
    if raw.kind != expected_kind {
        return Err(err(1, None, PolicyProblem::WrongKind { expected: expected_kind }));
    }
    if raw.rules.len() > MAX_RULES {
        return Err(err(0, None, PolicyProblem::TooLarge(format!("{} rules; at most {MAX_RULES}", raw.rules.len()))));
    }
    let _ = raw.description;
    let mut rules: Vec<Rule> = Vec::with_capacity(raw.rules.len());
    let mut ids = std::collections::HashSet::new();
    for spanned in raw.rules {
        let line = lines.of(spanned.span().start);
        let r = spanned.into_inner();
        let id = r.id.clone();
        let at = |s: std::ops::Range<usize>| lines.of(s.start);
        if !ids.insert(r.id.clone()) {
            problems.push(err(line, Some(&id), PolicyProblem::DuplicateRuleId));
            continue;
        }
        let column = match parse_column(r.audience.get_ref()) {
            Ok(c) => Some(c),
            Err(problem) => {
                problems.push(err(at(r.audience.span()), Some(&id), problem));
                None
            }
        };
        let treatment = r.treatment.get_ref().parse::<Treatment>().ok();
        if treatment.is_none() {
            let problem = PolicyProblem::UnknownTreatment(r.treatment.get_ref().clone());
            problems.push(err(at(r.treatment.span()), Some(&id), problem));
        }
        let mut patterns = Vec::with_capacity(r.categories.len());
        for c in &r.categories {
            match Pattern::parse(c.get_ref()) {
                Some(p) => patterns.push((p, at(c.span()))),
                None => {
                    problems.push(err(at(c.span()), Some(&id), PolicyProblem::UnknownCategory(c.get_ref().clone())))
                }
            }
        }
        let (Some(column), Some(treatment)) = (column, treatment) else { continue };
        if patterns.len() != r.categories.len() {
            continue;
        }
        let categories = r.categories.iter().map(|c| c.get_ref().clone()).collect();
        rules.push(Rule { id, file: file.to_owned(), line, column, treatment, patterns, categories, why: r.why });
    }
    Ok(PolicyFile {
        name: raw.name,
        file: file.to_owned(),
        text: text.to_owned(),
        hash: *blake3::hash(text.as_bytes()).as_bytes(),
        rules,
    })
}

fn parse_column(s: &str) -> Result<Column, PolicyProblem> {
    if let Some(id) = s.strip_prefix("partner:") {
        if is_reserved_partner(id) {
            return Err(PolicyProblem::ReservedPartner(id.to_owned()));
        }
        return PartnerId::new(id)
            .map(|p| Column { class: AudienceClass::Partner, partner: Some(p) })
            .map_err(|_| PolicyProblem::UnknownAudience(s.to_owned()));
    }
    AudienceClass::ALL
        .into_iter()
        .find(|c| c.as_str() == s)
        .map(|class| Column { class, partner: None })
        .ok_or_else(|| PolicyProblem::UnknownAudience(s.to_owned()))
}

/// One file's resolved cells: (cell, specificity, line of the winning pattern).
type Resolved = BTreeMap<(Column, Category), (Cell, usize, usize)>;

/// Resolves one file's rules into cells: most specific wins, ties are errors (and the first
/// rule's cell stands, so later checks still run).
fn resolve(file: &PolicyFile, problems: &mut Problems) -> Resolved {
    let mut cells: Resolved = BTreeMap::new();
    let mut winners: BTreeMap<(Column, Category), String> = BTreeMap::new();
    for rule in &file.rules {
        for category in Category::all() {
            let Some((pattern, line)) =
                rule.patterns.iter().filter(|(p, _)| p.matches(category)).max_by_key(|(p, _)| p.specificity())
            else {
                continue;
            };
            let spec = pattern.specificity();
            let key = (rule.column.clone(), category);
            let cell = Cell {
                treatment: rule.treatment,
                provenance: Provenance::Rule { id: rule.id.clone(), file: file.file.clone(), line: rule.line },
            };
            match cells.get(&key) {
                Some((existing, s, _)) if *s == spec => {
                    let other = winners.get(&key).cloned().unwrap_or_default();
                    let problem = if existing.treatment == rule.treatment {
                        PolicyProblem::DuplicateRule { category, other }
                    } else {
                        PolicyProblem::ConflictingRule { category, other }
                    };
                    problems.push(PolicyError {
                        file: file.file.clone(),
                        line: *line,
                        rule: Some(rule.id.clone()),
                        problem,
                    });
                }
                Some((_, s, _)) if *s > spec => {}
                _ => {
                    cells.insert(key.clone(), (cell, spec, *line));
                    winners.insert(key, rule.id.clone());
                }
            }
        }
    }
    cells
}

impl Policy {
    /// The default policy shipped with caseward.
    pub fn default_policy() -> Result<Self> {
        Self::from_toml(DEFAULT_POLICY, "policies/default.toml")
    }

    /// Parses and validates a base policy from text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Self> {
        Self::with_overlays_text(text, file, &[])
    }

    /// Loads and validates a base policy file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_with_overlays(path, &[] as &[&Path])
    }

    /// Loads a base policy and site overlays that may only tighten it.
    pub fn load_with_overlays<P: AsRef<Path>>(base: impl AsRef<Path>, overlays: &[P]) -> Result<Self> {
        let name = base.as_ref().display().to_string();
        Self::check_files(base, overlays).map_err(|all| first_problem(all, &name))
    }

    /// Parses a base policy and overlays from text: `(text, file name)` for each overlay.
    pub fn with_overlays_text(base: &str, file: &str, overlays: &[(&str, &str)]) -> Result<Self> {
        Self::check_text(base, file, overlays).map_err(|all| first_problem(all, file))
    }

    /// Validates a base and overlays and returns every problem found, not only the first (for
    /// `caseward policy check --json`). The problems are in file order.
    pub fn check_text(base: &str, file: &str, overlays: &[(&str, &str)]) -> Result<Self, Vec<PolicyError>> {
        let mut problems = Problems::new();
        let built = Self::build(base, file, overlays, &mut problems);
        match built {
            Ok(p) if problems.is_empty() => Ok(p),
            Ok(_) => Err(problems),
            Err(fatal) => {
                problems.push(fatal);
                Err(problems)
            }
        }
    }

    /// [`Policy::check_text`] for files on disk.
    pub fn check_files<P: AsRef<Path>>(base: impl AsRef<Path>, overlays: &[P]) -> Result<Self, Vec<PolicyError>> {
        let read = |p: &Path| -> Result<(String, String), PolicyError> {
            let name = p.display().to_string();
            let text = std::fs::read_to_string(p).map_err(|e| PolicyError {
                file: name.clone(),
                line: 0,
                rule: None,
                problem: PolicyProblem::Syntax(format!("cannot read the file: {}", e.kind())),
            })?;
            Ok((text, name))
        };
        let (text, name) = read(base.as_ref()).map_err(|e| vec![e])?;
        let mut texts = Vec::new();
        let mut problems = Vec::new();
        for o in overlays {
            match read(o.as_ref()) {
                Ok(t) => texts.push(t),
                Err(e) => problems.push(e),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let refs: Vec<(&str, &str)> = texts.iter().map(|(t, n)| (t.as_str(), n.as_str())).collect();
        Self::check_text(&text, &name, &refs)
    }

    /// Builds the composed matrix. A fatal problem (a file that does not parse) is the error;
    /// every other problem is pushed to `problems` and validation goes on.
    fn build(base: &str, file: &str, overlays: &[(&str, &str)], problems: &mut Problems) -> Result<Self, PolicyError> {
        if overlays.len() > MAX_OVERLAYS {
            return Err(PolicyError {
                file: file.to_owned(),
                line: 0,
                rule: None,
                problem: PolicyProblem::TooLarge(format!("{} overlays; at most {MAX_OVERLAYS}", overlays.len())),
            });
        }
        let base_file = parse_file(base, file, "base", problems)?;
        let mut cells: BTreeMap<(Column, Category), Cell> = BTreeMap::new();
        let mut base_cells = resolve(&base_file, problems);
        check_ceilings_and_partners(&base_file, &mut base_cells, None, problems);
        for (k, (cell, _, _)) in base_cells {
            cells.insert(k, cell);
        }
        let mut files = vec![base_file];
        for (text, name) in overlays {
            let overlay = parse_file(text, name, "overlay", problems)?;
            let mut resolved = resolve(&overlay, problems);
            check_ceilings_and_partners(&overlay, &mut resolved, Some(&cells), problems);
            for (key, (cell, _, line)) in resolved {
                let before = effective(&cells, &key.0, key.1).treatment;
                if cell.treatment > before {
                    let rule = match &cell.provenance {
                        Provenance::Rule { id, .. } => Some(id.clone()),
                        Provenance::Default => None,
                    };
                    problems.push(PolicyError {
                        file: overlay.file.clone(),
                        line,
                        rule,
                        problem: PolicyProblem::Widens { category: key.1, granted: cell.treatment, base: before },
                    });
                    continue;
                }
                cells.insert(key, cell);
            }
            files.push(overlay);
        }
        let hash = if files.len() == 1 {
            files.first().map_or([0; 32], |f| f.hash)
        } else {
            let mut h = blake3::Hasher::new_derive_key("caseward v1 policy identity with overlays");
            for f in &files {
                h.update(&f.hash);
            }
            *h.finalize().as_bytes()
        };
        let mut columns: Vec<Column> =
            AudienceClass::ALL.iter().map(|&class| Column { class, partner: None }).collect();
        let named: std::collections::BTreeSet<&Column> = cells.keys().map(|(col, _)| col).collect();
        for col in named {
            if col.partner.is_some() {
                columns.push(col.clone());
            }
        }
        let policy = Self { files, hash: PolicyHash(hash), cells, columns };
        policy.check_composed(problems);
        Ok(policy)
    }

    /// The composed matrix, checked as a whole after every file is in: each column, named
    /// partners included, stays under the code's ceiling, and no named partner gets more than
    /// the generic partner column. This is what the firewall will read, so it is what must hold.
    fn check_composed(&self, problems: &mut Problems) {
        for column in &self.columns {
            for category in Category::all() {
                let cell = effective(&self.cells, column, category);
                let ceiling = firewall::ceiling(column.class, category);
                let generic = Column { class: column.class, partner: None };
                let base = effective(&self.cells, &generic, category).treatment;
                let problem = if cell.treatment > ceiling {
                    PolicyProblem::BeyondCeiling { category, granted: cell.treatment, ceiling }
                } else if cell.treatment > base {
                    PolicyProblem::Widens { category, granted: cell.treatment, base }
                } else {
                    continue;
                };
                let (file, line, rule) = match &cell.provenance {
                    Provenance::Rule { id, file, line } => (file.clone(), *line, Some(id.clone())),
                    Provenance::Default => (String::new(), 0, None),
                };
                problems.push(PolicyError { file, line, rule, problem });
            }
        }
    }

    /// The files this policy was built from, to store it in a vault and rebuild it there.
    pub(crate) fn sources(&self) -> PolicySources {
        PolicySources { files: self.files.iter().map(|f| (f.file.clone(), f.text.clone())).collect() }
    }

    /// Rebuilds (and re-validates) a policy from stored sources.
    pub(crate) fn from_sources(s: &PolicySources) -> Result<Self> {
        let mut it = s.files.iter();
        let (file, text) = it.next().ok_or_else(|| Error::input("a stored policy has no base file"))?;
        let overlays: Vec<(&str, &str)> = it.map(|(f, t)| (t.as_str(), f.as_str())).collect();
        Self::with_overlays_text(text, file, &overlays)
    }

    /// The policy's identity: the BLAKE3 hash of the base file, or, with overlays, a hash over
    /// the hashes of every file in order. Recorded on every disclosure and in every report.
    pub fn hash(&self) -> PolicyHash {
        self.hash
    }

    /// The base policy's `name`.
    pub fn name(&self) -> &str {
        self.files.first().map_or("", |f| f.name.as_str())
    }

    /// The effective treatment of `category` for `audience`, with the rule that produced it.
    /// A `partner:<id>` audience reads its own rules where they exist, the generic `partner`
    /// rules otherwise.
    pub fn cell(&self, audience: &Audience, category: Category) -> Cell {
        let column = Column { class: audience.class(), partner: audience.partner().cloned() };
        effective(&self.cells, &column, category)
    }

    /// The treatment alone.
    pub fn treatment(&self, audience: &Audience, category: Category) -> Treatment {
        self.cell(audience, category).treatment
    }

    /// The effective matrix: one row per category, one column per audience (the eight classes,
    /// then any `partner:<id>` the policy names).
    pub fn explain(&self) -> Explanation {
        let columns: Vec<String> = self.columns.iter().map(ToString::to_string).collect();
        let rows = Category::all()
            .map(|category| ExplainRow {
                category,
                cells: self.columns.iter().map(|col| effective(&self.cells, col, category)).collect(),
            })
            .collect();
        let rules = self.files.iter().flat_map(|f| &f.rules).map(RuleInfo::from).collect();
        Explanation {
            policy: self.hash.to_string(),
            name: self.name().to_owned(),
            files: self.files.iter().map(|f| f.file.clone()).collect(),
            columns,
            rows,
            rules,
        }
    }
}

/// One audience's column of the composed matrix, for a reviewer auditing what that audience
/// can get (`caseward policy explain --audience ice`).
#[derive(Clone, Debug, Serialize)]
pub struct AudienceExplanation {
    /// The policy hash.
    pub policy: String,
    /// The audience (`ice`, `partner:casa`, ...).
    pub audience: String,
    /// The files, base first.
    pub files: Vec<String>,
    /// One row per category.
    pub rows: Vec<AudienceRow>,
    /// The rules that can decide this audience's cells (for a named partner, the generic
    /// `partner` rules too), in file order.
    pub rules: Vec<RuleInfo>,
}

/// One category for one audience.
#[derive(Clone, Debug, Serialize)]
pub struct AudienceRow {
    /// The category.
    pub category: Category,
    /// What the policy gives, and the rule that gave it.
    pub cell: Cell,
    /// The most the code ever allows this audience, whatever any policy says.
    pub ceiling: Treatment,
}

impl AudienceExplanation {
    /// A Markdown table: category, treatment, rule, and the code's ceiling.
    pub fn to_markdown(&self) -> String {
        let mut out =
            format!("Audience `{}` under policy {} ({}).\n\n", self.audience, self.policy, self.files.join(" + "));
        out.push_str("| category | treatment | rule | ceiling (code) |\n|---|---|---|---|\n");
        for row in &self.rows {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                row.category, row.cell.treatment, row.cell.provenance, row.ceiling
            ));
        }
        out.push_str("\nThe rules that decide these cells, and why:\n\n");
        rules_markdown(&self.rules, &mut out);
        out
    }
}

impl Policy {
    /// One audience's column of the composed matrix, with the code's ceiling beside each cell.
    pub fn explain_audience(&self, audience: &Audience) -> AudienceExplanation {
        let rows = Category::all()
            .map(|category| AudienceRow {
                category,
                cell: self.cell(audience, category),
                ceiling: firewall::ceiling(audience.class(), category),
            })
            .collect();
        let generic = Column { class: audience.class(), partner: None };
        let own = Column { class: audience.class(), partner: audience.partner().cloned() };
        let rules = self
            .files
            .iter()
            .flat_map(|f| &f.rules)
            .filter(|r| r.column == own || r.column == generic)
            .map(RuleInfo::from)
            .collect();
        AudienceExplanation {
            policy: self.hash.to_string(),
            audience: audience.to_string(),
            files: self.files.iter().map(|f| f.file.clone()).collect(),
            rows,
            rules,
        }
    }
}

/// A cell of the composed matrix. A `partner:<id>` column reads its own cell where one exists,
/// and is never above the generic `partner` cell: an overlay that narrows `partner` therefore
/// narrows every named partner too, whatever the named partner's own rules say.
fn effective(cells: &BTreeMap<(Column, Category), Cell>, column: &Column, category: Category) -> Cell {
    let deny = || Cell { treatment: Treatment::Deny, provenance: Provenance::Default };
    if column.partner.is_none() {
        return cells.get(&(column.clone(), category)).cloned().unwrap_or_else(deny);
    }
    let generic = Column { class: column.class, partner: None };
    let generic = cells.get(&(generic, category)).cloned().unwrap_or_else(deny);
    match cells.get(&(column.clone(), category)) {
        Some(own) if own.treatment <= generic.treatment => own.clone(),
        _ => generic,
    }
}

/// Every cell must stay under the code's ceiling, and a `partner:<id>` cell under the generic
/// partner cell (of this file, or of the base when checking an overlay).
/// Every cell must stay under the code's ceiling, and a `partner:<id>` cell under the generic
/// partner cell (of this file, or of the base when checking an overlay). A cell that fails is
/// reported and dropped, so it is reported once.
fn check_ceilings_and_partners(
    file: &PolicyFile,
    cells: &mut Resolved,
    base: Option<&BTreeMap<(Column, Category), Cell>>,
    problems: &mut Problems,
) {
    let mut failed = Vec::new();
    for ((column, category), (cell, _, line)) in cells.iter() {
        let rule = match &cell.provenance {
            Provenance::Rule { id, .. } => Some(id.clone()),
            Provenance::Default => None,
        };
        let ceiling = firewall::ceiling(column.class, *category);
        let problem = if cell.treatment > ceiling {
            Some(PolicyProblem::BeyondCeiling { category: *category, granted: cell.treatment, ceiling })
        } else if column.partner.is_some() {
            let generic = Column { class: column.class, partner: None };
            let here = cells.get(&(generic.clone(), *category)).map(|(c, _, _)| c.treatment);
            let there = base.map(|b| effective(b, &generic, *category).treatment);
            let limit = here.or(there).unwrap_or(Treatment::Deny);
            (cell.treatment > limit).then_some(PolicyProblem::Widens {
                category: *category,
                granted: cell.treatment,
                base: limit,
            })
        } else {
            None
        };
        if let Some(problem) = problem {
            problems.push(PolicyError { file: file.file.clone(), line: *line, rule, problem });
            failed.push((column.clone(), *category));
        }
    }
    for key in failed {
        cells.remove(&key);
    }
}

/// The effective matrix, for reviewers (`caseward policy explain`).
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    /// The policy hash.
    pub policy: String,
    /// The base policy's name.
    pub name: String,
    /// The files, base first.
    pub files: Vec<String>,
    /// Column headings.
    pub columns: Vec<String>,
    /// One row per category.
    pub rows: Vec<ExplainRow>,
    /// Every rule, in file order, with its reason.
    pub rules: Vec<RuleInfo>,
}

/// A rule as written, for reviewers.
#[derive(Clone, Debug, Serialize)]
pub struct RuleInfo {
    /// Its id.
    pub id: String,
    /// Its file.
    pub file: String,
    /// Its line.
    pub line: usize,
    /// `caseworker`, `partner:<id>`, ...
    pub audience: String,
    /// The treatment it gives.
    pub treatment: Treatment,
    /// The categories or patterns it names.
    pub categories: Vec<String>,
    /// Why.
    pub why: String,
}

impl From<&Rule> for RuleInfo {
    fn from(r: &Rule) -> Self {
        Self {
            id: r.id.clone(),
            file: r.file.clone(),
            line: r.line,
            audience: r.column.to_string(),
            treatment: r.treatment,
            categories: r.categories.clone(),
            why: r.why.clone(),
        }
    }
}

/// The rules table both explanations end with: one row per rule, with its reason.
fn rules_markdown(rules: &[RuleInfo], out: &mut String) {
    out.push_str("| rule | audience | treatment | categories | why |\n|---|---|---|---|---|\n");
    for r in rules {
        out.push_str(&format!(
            "| `{}` ({}:{}) | {} | {} | {} | {} |\n",
            r.id,
            r.file,
            r.line,
            r.audience,
            r.treatment,
            r.categories.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(" "),
            r.why
        ));
    }
}

/// One category's row.
#[derive(Clone, Debug, Serialize)]
pub struct ExplainRow {
    /// The category.
    pub category: Category,
    /// One cell per column.
    pub cells: Vec<Cell>,
}

impl Explanation {
    /// A Markdown table: each cell is the treatment and the id of the rule that produced it.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("Policy `{}` ({}), from {}.\n\n", self.name, self.policy, self.files.join(" + ")));
        out.push_str("| category |");
        for c in &self.columns {
            out.push_str(&format!(" {c} |"));
        }
        out.push_str("\n|---|");
        for _ in &self.columns {
            out.push_str("---|");
        }
        out.push('\n');
        for row in &self.rows {
            out.push_str(&format!("| `{}` |", row.category));
            for cell in &row.cells {
                match &cell.provenance {
                    Provenance::Default => out.push_str(" deny |"),
                    Provenance::Rule { id, .. } => out.push_str(&format!(" {} `{id}` |", cell.treatment)),
                }
            }
            out.push('\n');
        }
        out.push_str("\nA cell no rule covers is denied. The rules, and why:\n\n");
        rules_markdown(&self.rules, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_loads_and_keeps_ice_at_the_floor() {
        let p = Policy::default_policy().unwrap();
        for c in Category::all() {
            assert!(p.treatment(&Audience::Ice, c) <= firewall::ceiling(AudienceClass::Ice, c), "{c}");
        }
        assert_eq!(p.treatment(&Audience::Ice, Category::HealthMental), Treatment::Deny);
        assert_eq!(p.treatment(&Audience::Ice, Category::IdentifierAlienNumber), Treatment::Reveal);
    }

    #[test]
    fn wildcards_lose_to_exact_names() {
        let text = r#"
format = 1
kind = "base"
name = "t"
[[rule]]
id = "all-health"
audience = "caseworker"
treatment = "reveal"
categories = ["health.*"]
why = "x"
[[rule]]
id = "no-psychotherapy"
audience = "caseworker"
treatment = "deny"
categories = ["health.mental.psychotherapy_note"]
why = "x"
"#;
        let p = Policy::from_toml(text, "t.toml").unwrap();
        assert_eq!(p.treatment(&Audience::Caseworker, Category::HealthMental), Treatment::Reveal);
        assert_eq!(p.treatment(&Audience::Caseworker, Category::HealthMentalPsychotherapyNote), Treatment::Deny);
        assert_eq!(p.treatment(&Audience::Caseworker, Category::NoteCase), Treatment::Deny);
    }
}
