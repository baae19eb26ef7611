//! Loopback doubles of the messaging platforms the gateway's channels talk to. Each speaks its
//! platform's real wire format on `127.0.0.1:0`, so the production adapters run unchanged
//! against it, and lets a test play the users, count what the bot sent, and inject faults.
#![forbid(unsafe_code)]

pub mod discord;
pub mod slack;
pub mod telegram;

pub use discord::{FakeDiscord, SentAttachment};
pub use slack::{FakeSlack, UploadedFile};
pub use telegram::{FakeTelegram, SentFile, SentMessage};
