//! Settings this version accepts but does not act on — the messaging channels it does not
//! run — and the one way the doctor reports them: [`Status::Unused`] with
//! "configured, not used by this version", never OK, so an operator does not mistake a setting
//! for a working feature. A feature leaves this list in the version that implements it.

use super::{Check, Status};

/// What every such check says after its own detail.
pub const NOT_USED: &str = "configured, not used by this version";

/// A check for a setting of a feature this version does not have.
pub fn check(section: &'static str, name: impl Into<String>, detail: &str) -> Check {
    Check::new(
        section,
        name,
        Status::Unused,
        format!("{detail}: {NOT_USED}"),
    )
    .fix("nothing to do: the setting is kept and takes effect in a version that has the feature")
}
