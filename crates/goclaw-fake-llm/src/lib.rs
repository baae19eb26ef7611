//! A fake LLM for tests: a real HTTP server on loopback that speaks both the Anthropic Messages
//! API (`POST /v1/messages`) and the OpenAI Chat Completions API (`POST /v1/chat/completions`),
//! streamed or not, answering from a per-test script of replies and recording every request. It
//! also serves OpenAI-compatible embeddings (`POST /v1/embeddings`) whose vectors bring texts
//! with shared words close together ([`embedding_vector`], usable in-process too), and lists
//! [`FAKE_MODELS`] at `GET /v1/models` in a body both wire formats read.
//!
//! ```no_run
//! # async fn example() {
//! use goclaw_fake_llm::{FakeLlm, Reply};
//! let fake = FakeLlm::start().await;
//! fake.push(Reply::rate_limited(2));
//! fake.push(Reply::text("hello there"));
//! // point a client at fake.base_url(), then inspect fake.requests()
//! # }
//! ```
#![forbid(unsafe_code)]

mod anthropic;
mod embeddings;
mod frame;
mod models;
mod openai;
mod reply;
mod server;

pub use embeddings::{DEFAULT_EMBEDDING_DIMENSIONS, EmbeddingReply, embedding_vector};
pub use models::MODELS as FAKE_MODELS;
pub use reply::{FakeToolCall, Finish, Reply};
pub use server::{FakeLlm, RecordedRequest};
