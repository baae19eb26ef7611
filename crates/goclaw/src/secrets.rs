//! The encryption key at start-up: `GOCLAW_ENCRYPTION_KEY` parsed into a [`SecretBox`], and
//! the check that it opens the secrets the database already holds. A gateway without the key
//! (or with the wrong one) would silently lose every stored provider key, so it refuses to
//! start and says how to recover instead.

use std::sync::Arc;

use anyhow::{Context, bail};
use goclaw_config::Secret;
use goclaw_core::Store;
use goclaw_crypto::{EncryptionKey, SecretBox};

/// The variable holding the key the stored secrets are encrypted with.
pub const KEY_VAR: &str = "GOCLAW_ENCRYPTION_KEY";

/// Parses a key from the variable `var`; the error names the variable, never the value.
pub fn parse_key(var: &str, raw: &Secret) -> anyhow::Result<EncryptionKey> {
    EncryptionKey::parse(raw.expose()).with_context(|| format!("{var} is not a valid key"))
}

/// The [`SecretBox`] of the configured key (`None` without one), once it is known to fit the
/// database: refuses when the database holds encrypted values and no key is set, or when the
/// first of them does not decrypt with the key.
pub async fn check_encryption_key(
    store: &dyn Store,
    key: Option<&Secret>,
) -> anyhow::Result<Option<Arc<SecretBox>>> {
    let secrets = key
        .filter(|k| !k.is_empty())
        .map(|k| parse_key(KEY_VAR, k).map(|key| SecretBox::new(&key)))
        .transpose()?;
    let stored = store.secrets();
    let Some(secret_box) = secrets else {
        let count = stored
            .count_encrypted()
            .await
            .context("cannot count the encrypted secrets in the database")?;
        if count > 0 {
            bail!(
                "the database holds {count} encrypted secrets but {KEY_VAR} is not set: restore \
                 the key from your backup"
            );
        }
        tracing::warn!("{KEY_VAR} is not set: provider API keys cannot be stored in the database");
        return Ok(None);
    };
    let values = stored
        .list_encrypted()
        .await
        .context("cannot read the encrypted secrets in the database")?;
    if let Some(first) = values.first()
        && secret_box.decrypt(&first.value).is_err()
    {
        tracing::error!(secret = %first.secret, "security.encryption_key_mismatch");
        bail!(
            "{KEY_VAR} does not decrypt the stored secrets (wrong key?): restore the correct \
                 key from your backup"
        );
    }
    Ok(Some(Arc::new(secret_box)))
}
