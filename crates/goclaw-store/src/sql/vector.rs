//! Embeddings as each engine stores them: pgvector's `vector` (binary: a 16-bit dimension
//! count, 16 unused bits, then big-endian float32s) and, on SQLite, a blob of little-endian
//! float32s, the form sqlite-vec reads.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

/// A vector bound to a PostgreSQL statement.
pub(super) struct PgVector<'a>(pub(super) &'a [f32]);

/// A vector read from PostgreSQL.
pub(super) struct PgVectorValue(pub(super) Vec<f32>);

impl Type<Postgres> for PgVector<'_> {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_name("vector")
    }
}

impl Type<Postgres> for PgVectorValue {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_name("vector")
    }
}

impl Encode<'_, Postgres> for PgVector<'_> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        let dimensions = i16::try_from(self.0.len())?;
        buf.extend_from_slice(&dimensions.to_be_bytes());
        buf.extend_from_slice(&0_i16.to_be_bytes());
        for value in self.0 {
            buf.extend_from_slice(&value.to_be_bytes());
        }
        Ok(IsNull::No)
    }
}

impl<'r> Decode<'r, Postgres> for PgVectorValue {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => from_pg_binary(value.as_bytes()?).map(PgVectorValue),
            PgValueFormat::Text => from_text(value.as_str()?).map(PgVectorValue),
        }
    }
}

fn from_pg_binary(bytes: &[u8]) -> Result<Vec<f32>, BoxDynError> {
    let (Some(head), Some(values)) = (bytes.get(..2), bytes.get(4..)) else {
        return Err("a vector shorter than its header".into());
    };
    let dimensions = usize::from(u16::from_be_bytes([head[0], head[1]]));
    if values.len() != dimensions * 4 {
        return Err(format!(
            "a vector of {dimensions} dimensions in {} bytes",
            values.len()
        )
        .into());
    }
    Ok(values
        .chunks_exact(4)
        .map(|b| f32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// pgvector's text form, `[1,2.5,3]`.
pub(crate) fn from_text(text: &str) -> Result<Vec<f32>, BoxDynError> {
    let inner = text
        .trim()
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or("a vector not in brackets")?;
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .map(|v| v.trim().parse::<f32>().map_err(Into::into))
        .collect()
}

/// pgvector's text form of `vector`.
pub(crate) fn to_text(vector: &[f32]) -> String {
    let values: Vec<String> = vector.iter().map(f32::to_string).collect();
    format!("[{}]", values.join(","))
}

/// The SQLite blob of `vector`.
pub(crate) fn to_blob(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The vector of a SQLite blob; `None` when its length is not a whole number of floats.
pub(crate) fn from_blob(blob: &[u8]) -> Option<Vec<f32>> {
    if !blob.len().is_multiple_of(4) {
        return None;
    }
    Some(
        blob.chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_and_text_round_trip() {
        let vector = [0.0, 1.5, -2.25, f32::MIN_POSITIVE];
        assert_eq!(from_blob(&to_blob(&vector)).as_deref(), Some(&vector[..]));
        assert_eq!(from_blob(&[0, 0, 0]), None);
        let parsed = from_text(&to_text(&vector)).map_err(|e| e.to_string());
        assert_eq!(parsed.as_deref(), Ok(&vector[..]));
        assert!(from_text("1,2").is_err(), "text without brackets parsed");
    }

    #[test]
    fn postgres_binary_has_a_dimension_header() {
        let mut bytes = vec![0, 2, 0, 0];
        bytes.extend_from_slice(&1.0_f32.to_be_bytes());
        bytes.extend_from_slice(&(-0.5_f32).to_be_bytes());
        let parsed = from_pg_binary(&bytes).map_err(|e| e.to_string());
        assert_eq!(parsed, Ok(vec![1.0, -0.5]));
        assert!(
            from_pg_binary(&bytes[..6]).is_err(),
            "a short vector parsed"
        );
    }
}
