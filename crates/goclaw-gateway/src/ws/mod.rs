//! WebSocket protocol v3 on `/ws`: the upgrade, one task per connection, and the methods.

mod clients;
mod connection;
pub mod frames;
pub(crate) mod methods;
mod wire;

pub use clients::ClientRegistry;
pub(crate) use connection::__path_ws_handler;
pub use connection::ws_handler;
