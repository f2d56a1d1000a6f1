//! Charts as Helm sees them: loading, subchart selection, values coalescing, `.Files`.

pub mod deps;
pub mod files;
mod glob;
mod ignore;
pub mod load;
pub mod values;
