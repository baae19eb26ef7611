//! Methods of GoClaw's dashboard for features this gateway does not have (workstations,
//! Bitrix24 portals, per-agent config permissions, WhatsApp and Zalo personal logins, the
//! log tail, run timelines, chat behaviour previews). Listings answer empty, in GoClaw's
//! shape, so the dashboard's pages render; everything else answers `NOT_IMPLEMENTED`.

use serde_json::{Value, json};

use crate::ws::frames::{ErrorCode, ErrorShape};

/// A listing answered empty, under the key GoClaw puts the list in.
pub fn empty_list(key: &str) -> Result<Value, ErrorShape> {
    Ok(json!({ key: [] }))
}

/// A method of a feature this gateway does not provide.
pub fn not_implemented(method: &str) -> Result<Value, ErrorShape> {
    Err(ErrorShape::new(
        ErrorCode::NotImplemented,
        format!("{method} is not implemented by this gateway"),
    ))
}
