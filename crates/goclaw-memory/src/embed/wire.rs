//! The OpenAI embeddings wire format: the request body, and reading an answer back into one
//! vector per input in input order (answers carry `index`; nothing promises they are sorted).

use serde::{Deserialize, Serialize};

use super::{EMBEDDING_DIMENSIONS, EmbedError};

/// The body of `POST {base}/embeddings`.
#[derive(Debug, Serialize)]
pub(crate) struct EmbeddingRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) input: &'a [String],
    pub(crate) dimensions: usize,
}

#[derive(Debug, Deserialize)]
struct EmbeddingResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(Debug, Deserialize)]
struct EmbeddingItem {
    index: usize,
    embedding: Vec<f32>,
}

/// The vectors of an answer to a request of `expected` inputs, ordered by `index`. Every index
/// in `0..expected` must appear exactly once and every vector must have
/// [`EMBEDDING_DIMENSIONS`] finite components.
pub(crate) fn read_vectors(body: &[u8], expected: usize) -> Result<Vec<Vec<f32>>, EmbedError> {
    let response: EmbeddingResponse = serde_json::from_slice(body)
        .map_err(|error| EmbedError::Malformed(format!("not an embeddings list: {error}")))?;
    if response.data.len() != expected {
        return Err(EmbedError::Malformed(format!(
            "{} embeddings for {expected} inputs",
            response.data.len()
        )));
    }
    let mut slots: Vec<Option<Vec<f32>>> = vec![None; expected];
    for item in response.data {
        if item.embedding.len() != EMBEDDING_DIMENSIONS {
            return Err(EmbedError::Dimensions {
                expected: EMBEDDING_DIMENSIONS,
                actual: item.embedding.len(),
            });
        }
        if item.embedding.iter().any(|x| !x.is_finite()) {
            return Err(EmbedError::Malformed(format!(
                "embedding {} has a non-finite component",
                item.index
            )));
        }
        let Some(slot) = slots.get_mut(item.index) else {
            return Err(EmbedError::Malformed(format!(
                "index {} out of range for {expected} inputs",
                item.index
            )));
        };
        if slot.replace(item.embedding).is_some() {
            return Err(EmbedError::Malformed(format!(
                "index {} appears twice",
                item.index
            )));
        }
    }
    // Equal counts and no duplicates leave no slot empty.
    Ok(slots.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn vector(fill: f32) -> Vec<f32> {
        vec![fill; EMBEDDING_DIMENSIONS]
    }

    fn body(items: &[(usize, Vec<f32>)]) -> Vec<u8> {
        let data: Vec<_> = items
            .iter()
            .map(|(index, embedding)| json!({"object": "embedding", "index": index, "embedding": embedding}))
            .collect();
        json!({"object": "list", "data": data, "model": "m"})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn answers_are_ordered_by_index() {
        let answer = body(&[(2, vector(3.0)), (0, vector(1.0)), (1, vector(2.0))]);
        let vectors = read_vectors(&answer, 3).expect("a valid answer");
        let firsts: Vec<f32> = vectors.iter().map(|v| v[0]).collect();
        assert_eq!(firsts, [1.0, 2.0, 3.0]);
    }

    #[test]
    fn invalid_answers_are_refused() {
        let cases: [(Vec<u8>, usize, &str); 6] = [
            (b"not json".to_vec(), 1, "not an embeddings list"),
            (body(&[(0, vector(1.0))]), 2, "1 embeddings for 2 inputs"),
            (
                body(&[(0, vector(1.0)), (0, vector(1.0))]),
                2,
                "appears twice",
            ),
            (body(&[(5, vector(1.0))]), 1, "out of range"),
            (body(&[(0, vec![0.5; 3])]), 1, "3 dimensions, expected 1536"),
            (
                br#"{"data":[{"index":0,"embedding":"AAAA"}]}"#.to_vec(),
                1,
                "not an embeddings list",
            ),
        ];
        for (answer, expected, needle) in cases {
            let error = read_vectors(&answer, expected).expect_err(needle);
            assert!(
                error.to_string().contains(needle),
                "{error} lacks {needle:?}"
            );
        }
    }

    #[test]
    fn request_always_names_the_dimensions() {
        let input = vec!["a".to_owned()];
        let request = EmbeddingRequest {
            model: "text-embedding-3-small",
            input: &input,
            dimensions: EMBEDDING_DIMENSIONS,
        };
        assert_eq!(
            serde_json::to_value(&request).expect("serializable"),
            json!({"model": "text-embedding-3-small", "input": ["a"], "dimensions": 1536})
        );
    }
}
