//! Skills: the catalog of every skill a run may use (uploaded ones from the store, shared
//! directories on disk), BM25 search over it (with embeddings when memory has a provider), the `skill_search` and `use_skill` tools,
//! skill slash commands, and the checked reading and installation of uploaded packages.

pub mod bundle;
pub mod catalog;
pub mod package;
pub mod search;
pub mod slash;
mod tools;
pub mod vectors;

pub use catalog::{SkillCatalog, SkillEntry};
pub use package::{PackageError, PackageLimits, SkillPackage, install, read_package};
pub use slash::SlashCommand;
pub use tools::skill_tools;
pub use vectors::SkillVectors;
