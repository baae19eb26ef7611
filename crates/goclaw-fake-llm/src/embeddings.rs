//! The fake's OpenAI-compatible embeddings (`POST /v1/embeddings`): a deterministic vector per
//! text in which texts sharing words (and parts of words) point the same way, the scripted
//! answers that replace it (HTTP errors, wrong dimensions, shuffled order), and the wire JSON.
//!
//! The vector is a hashed bag of words: every lower-cased alphanumeric token adds ±1 to a few
//! hashed dimensions, every character trigram of a token adds a smaller ±weight, and the sum is
//! L2-normalised. Cosine similarity then grows with shared vocabulary, which is all retrieval
//! tests need, and the same text always gets the same vector.

use std::time::Duration;

use serde_json::{Value, json};

/// The length of a vector when the request does not ask for `dimensions`: the size of OpenAI's
/// `text-embedding-3-small`.
pub const DEFAULT_EMBEDDING_DIMENSIONS: usize = 1536;

/// Dimensions each whole token adds to.
const TOKEN_SLOTS: u64 = 3;
/// Weight of a character trigram relative to a whole token.
const TRIGRAM_WEIGHT: f32 = 0.35;

/// The fake's embedding of `text` with `dimensions` components (at least 1): deterministic,
/// L2-normalised, and close (by cosine) for texts that share words. A text without any
/// alphanumeric character gets a fixed unit vector, so no vector is ever all zeros.
pub fn embedding_vector(text: &str, dimensions: usize) -> Vec<f32> {
    let dimensions = dimensions.max(1);
    let mut vector = vec![0.0_f32; dimensions];
    let mut add = |feature: &str, seed: u64, weight: f32| {
        let hash = splitmix(fnv1a(feature.as_bytes()) ^ seed);
        let index = usize::try_from(hash % dimensions as u64).unwrap_or(0);
        let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
        vector[index] += sign * weight;
    };
    for token in tokens(text) {
        for slot in 0..TOKEN_SLOTS {
            add(&token, slot.wrapping_mul(0x9e37_79b9), 1.0);
        }
        let padded: Vec<char> = format!("^{token}$").chars().collect();
        for trigram in padded.windows(3) {
            let trigram: String = trigram.iter().collect();
            add(&trigram, 0x5bd1_e995, TRIGRAM_WEIGHT);
        }
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        vector[0] = 1.0;
        return vector;
    }
    for x in &mut vector {
        *x /= norm;
    }
    vector
}

/// Lower-cased runs of alphanumeric characters.
fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|token| !token.is_empty())
        .map(str::to_lowercase)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Mixes the bits of a hash so nearby inputs land far apart.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// One scripted answer of the embeddings endpoint; [`EmbeddingReply::vectors`] is the normal
/// one and the default.
#[derive(Debug, Clone)]
pub struct EmbeddingReply {
    pub(crate) kind: EmbeddingReplyKind,
    pub(crate) first_byte_delay: Duration,
}

#[derive(Debug, Clone)]
pub(crate) enum EmbeddingReplyKind {
    Vectors {
        /// Vectors of this length whatever the request asked for.
        dimensions: Option<usize>,
        /// `data` in reverse index order, as a provider may legally answer.
        reversed: bool,
    },
    Http {
        status: u16,
        body: String,
        retry_after: Option<String>,
    },
}

impl EmbeddingReply {
    /// [`embedding_vector`] of every input, in input order, with the requested `dimensions`.
    pub fn vectors() -> Self {
        Self::plain(EmbeddingReplyKind::Vectors {
            dimensions: None,
            reversed: false,
        })
    }

    /// Vectors of `dimensions` components whatever the request asked for — a model that
    /// ignores the `dimensions` parameter.
    pub fn wrong_dimensions(dimensions: usize) -> Self {
        Self::plain(EmbeddingReplyKind::Vectors {
            dimensions: Some(dimensions),
            reversed: false,
        })
    }

    /// The normal vectors with `data` listed last index first; each item keeps its `index`.
    pub fn reversed() -> Self {
        Self::plain(EmbeddingReplyKind::Vectors {
            dimensions: None,
            reversed: true,
        })
    }

    /// An HTTP error with this status and body.
    pub fn http_error(status: u16, body: impl Into<String>) -> Self {
        Self::plain(EmbeddingReplyKind::Http {
            status,
            body: body.into(),
            retry_after: None,
        })
    }

    /// 429 with `Retry-After: seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        Self::http_error(429, error_body("rate_limit_exceeded", "Rate limit reached"))
            .retry_after(seconds.to_string())
    }

    /// 500 Internal Server Error.
    pub fn server_error() -> Self {
        Self::http_error(500, error_body("server_error", "The server had an error"))
    }

    /// 400 Bad Request with this message.
    pub fn bad_request(message: &str) -> Self {
        Self::http_error(400, error_body("invalid_request_error", message))
    }

    /// Adds a `Retry-After` header to an HTTP error.
    pub fn retry_after(mut self, value: impl Into<String>) -> Self {
        if let EmbeddingReplyKind::Http { retry_after, .. } = &mut self.kind {
            *retry_after = Some(value.into());
        }
        self
    }

    /// Waits this long before sending the response headers.
    pub fn first_byte_delay(mut self, delay: Duration) -> Self {
        self.first_byte_delay = delay;
        self
    }

    fn plain(kind: EmbeddingReplyKind) -> Self {
        Self {
            kind,
            first_byte_delay: Duration::ZERO,
        }
    }
}

/// The texts of a request's `input`: one string, or an array of strings (token arrays are
/// read as their numbers joined by spaces). `None` when `input` has another shape.
pub(crate) fn inputs(body: &Value) -> Option<Vec<String>> {
    match body.get("input")? {
        Value::String(text) => Some(vec![text.clone()]),
        Value::Array(items) => items.iter().map(input_text).collect(),
        _ => None,
    }
}

fn input_text(item: &Value) -> Option<String> {
    match item {
        Value::String(text) => Some(text.clone()),
        Value::Array(token_ids) => token_ids
            .iter()
            .map(|id| id.as_u64().map(|id| id.to_string()))
            .collect::<Option<Vec<_>>>()
            .map(|ids| ids.join(" ")),
        _ => None,
    }
}

/// The OpenAI list response for `texts`.
pub(crate) fn response_json(
    texts: &[String],
    model: &str,
    dimensions: usize,
    reversed: bool,
) -> Value {
    let mut data: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            json!({
                "object": "embedding",
                "index": index,
                "embedding": embedding_vector(text, dimensions),
            })
        })
        .collect();
    if reversed {
        data.reverse();
    }
    let tokens: usize = texts.iter().map(|text| tokens(text).count()).sum();
    json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    })
}

/// An error body in OpenAI's shape.
pub(crate) fn error_body(kind: &str, message: &str) -> String {
    json!({"error": {"message": message, "type": kind, "param": null, "code": null}}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn vectors_are_deterministic_and_unit_length() {
        for text in [
            "",
            "  ",
            "hello",
            "The cat sat on the mat.",
            "日本語のテキスト",
        ] {
            let vector = embedding_vector(text, 1536);
            assert_eq!(vector.len(), 1536);
            assert_eq!(vector, embedding_vector(text, 1536), "{text:?}");
            let norm = cosine(&vector, &vector).sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "{text:?}: norm {norm}");
        }
        assert_eq!(embedding_vector("abc", 8).len(), 8);
        assert_eq!(embedding_vector("abc", 0).len(), 1);
    }

    #[test]
    fn shared_words_bring_texts_closer() {
        let cat = embedding_vector("The cat sat on the mat", 1536);
        let cats = embedding_vector("a cat sitting on a mat", 1536);
        let revenue = embedding_vector("quarterly revenue grew by ten percent", 1536);
        assert!(cosine(&cat, &cats) > cosine(&cat, &revenue) + 0.2);
        assert_eq!(
            embedding_vector("Deploy the DATABASE", 64),
            embedding_vector("deploy, the database!", 64),
        );
    }

    #[test]
    fn inputs_accept_strings_and_arrays() {
        assert_eq!(inputs(&json!({"input": "a"})), Some(vec!["a".to_owned()]));
        assert_eq!(
            inputs(&json!({"input": ["a", "b"]})),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(
            inputs(&json!({"input": [[1, 2]]})),
            Some(vec!["1 2".to_owned()])
        );
        assert_eq!(inputs(&json!({"input": 3})), None);
        assert_eq!(inputs(&json!({})), None);
    }
}
