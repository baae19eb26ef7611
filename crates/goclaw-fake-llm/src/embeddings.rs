//! The fake's OpenAI-compatible embeddings (`POST /v1/embeddings`): a deterministic vector per
//! text in which texts sharing words (and parts of words) point the same way, the scripted
//! answers that replace it (HTTP errors, wrong dimensions, shuffled order), and the wire JSON.
//!
//! The vector is a hashed bag of words: every lower-cased alphanumeric token adds ±1 to a few
//! hashed dimensions, every character trigram of a token adds a smaller ±weight (so "deploy"
//! and "deployment" are close), and the sum is L2-normalised. Common English function words
//! ("the", "what", "do", ...) count a tenth of a content word, as they carry little of a text's
//! meaning for a real embedding model either; without that, a question's "what do we" would pull
//! it towards every chunk holding those words. Cosine similarity then grows with shared
//! content vocabulary, and the same text always gets the same vector.

use std::time::Duration;

use serde_json::{Value, json};

/// The length of a vector when the request does not ask for `dimensions`: the size of OpenAI's
/// `text-embedding-3-small`.
pub const DEFAULT_EMBEDDING_DIMENSIONS: usize = 1536;

/// Dimensions each whole token adds to.
const TOKEN_SLOTS: u64 = 3;
/// Weight of a character trigram relative to a whole token.
const TRIGRAM_WEIGHT: f32 = 0.35;
/// Weight of a function word (and of its trigrams) relative to a content word.
const FUNCTION_WORD_WEIGHT: f32 = 0.1;

/// English function words: articles, pronouns, auxiliaries, prepositions, conjunctions and
/// question words. Sorted, for a binary search.
const FUNCTION_WORDS: &[&str] = &[
    "a", "about", "after", "all", "am", "an", "and", "any", "are", "as", "at", "be", "been",
    "before", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has",
    "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my",
    "no", "not", "of", "on", "or", "our", "she", "should", "so", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "to", "up", "us", "was", "we",
    "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with", "would", "you",
    "your",
];

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
        let weight = if FUNCTION_WORDS.binary_search(&token.as_str()).is_ok() {
            FUNCTION_WORD_WEIGHT
        } else {
            1.0
        };
        for slot in 0..TOKEN_SLOTS {
            add(&token, slot.wrapping_mul(0x9e37_79b9), weight);
        }
        let padded: Vec<char> = format!("^{token}$").chars().collect();
        for trigram in padded.windows(3) {
            let trigram: String = trigram.iter().collect();
            add(&trigram, 0x5bd1_e995, TRIGRAM_WEIGHT * weight);
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
    fn function_words_count_little_and_word_forms_are_close() {
        assert!(
            FUNCTION_WORDS.windows(2).all(|w| w[0] < w[1]),
            "sorted, for binary_search"
        );
        let question = embedding_vector("what database do we use for production", 1536);
        let answer = embedding_vector("production database: PostgreSQL 15", 1536);
        let chatter = embedding_vector("what do we do for lunch", 1536);
        assert!(cosine(&question, &answer) > cosine(&question, &chatter) + 0.2);
        let deploy = embedding_vector("deploy", 1536);
        let deployment = embedding_vector("deployment", 1536);
        let invoice = embedding_vector("invoice", 1536);
        assert!(cosine(&deploy, &deployment) > cosine(&deploy, &invoice) + 0.15);
        let only_function_words = embedding_vector("what is it", 64);
        assert!((cosine(&only_function_words, &only_function_words) - 1.0).abs() < 1e-4);
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
