//! `goclaw secrets rotate-key`: re-encrypts every secret stored in the database from
//! `GOCLAW_ENCRYPTION_KEY` (the current key) to `GOCLAW_NEW_ENCRYPTION_KEY`.
//!
//! Nothing is written unless every value decrypts with the current key and every new
//! ciphertext was checked to decrypt back to the same plaintext with the new key; then all of
//! them are written in one transaction. A failure at any point leaves the database as it was,
//! readable with the current key. Plaintexts live only in memory that is wiped after use.

use std::process::ExitCode;

use anyhow::{Context, bail};
use goclaw_config::{Environment, LoadedConfig, Secret};
use goclaw_core::SecretRef;
use goclaw_crypto::SecretBox;
use goclaw_store::SchemaState;
use zeroize::Zeroizing;

use crate::database;
use crate::logging::{self, LogRole};
use crate::secrets::{KEY_VAR, parse_key};

/// The variable holding the key to rotate to.
pub const NEW_KEY_VAR: &str = "GOCLAW_NEW_ENCRYPTION_KEY";

pub async fn rotate_key(
    loaded: &LoadedConfig,
    env: &Environment,
    verbose: bool,
) -> anyhow::Result<ExitCode> {
    let mask = logging::init(loaded, verbose, LogRole::Command)?;
    let new_raw = env.get(NEW_KEY_VAR).filter(|v| !v.is_empty());
    if let Some(new_raw) = new_raw {
        mask.extend([new_raw.to_owned()]);
    }
    let Some(current_raw) = loaded
        .runtime
        .encryption_key
        .as_ref()
        .filter(|k| !k.is_empty())
    else {
        bail!("{KEY_VAR} is not set: set it to the key the stored secrets are encrypted with");
    };
    let Some(new_raw) = new_raw else {
        bail!(
            "{NEW_KEY_VAR} is not set: set it to the new key (generate one with `openssl rand -hex 32`)"
        );
    };
    let current_key = parse_key(KEY_VAR, current_raw)?;
    let new_key = parse_key(NEW_KEY_VAR, &Secret::new(new_raw))?;
    if current_key.to_hex() == new_key.to_hex() {
        bail!("{NEW_KEY_VAR} is the same key as {KEY_VAR}; nothing to rotate");
    }
    let (current, new) = (SecretBox::new(&current_key), SecretBox::new(&new_key));

    let opened = database::open(&loaded.runtime).await?;
    let status = opened
        .migrator()
        .status()
        .await
        .context("cannot read the schema version")?;
    if status.state != SchemaState::UpToDate {
        bail!("the database schema is not up to date: run `goclaw upgrade` first");
    }
    let store = opened.store();
    let values = store
        .secrets()
        .list_encrypted()
        .await
        .context("cannot read the encrypted secrets")?;

    let mut updates = Vec::with_capacity(values.len());
    // Every encrypted table, in the order the summary names them.
    let mut per_table: Vec<(&'static str, usize)> =
        vec![("llm_providers", 0), ("config_secrets", 0)];
    for value in values {
        let plaintext = current
            .decrypt(&value.value)
            .map(Zeroizing::new)
            .map_err(|e| {
                anyhow::anyhow!(
                    "{} does not decrypt with {KEY_VAR} ({e}); nothing was changed",
                    value.secret
                )
            })?;
        let rotated = new.encrypt(&plaintext);
        let check = new.decrypt(&rotated).map(Zeroizing::new);
        if check.as_deref().map(|c| c.as_str()) != Ok(plaintext.as_str()) {
            bail!(
                "re-encrypting {} did not verify; nothing was changed",
                value.secret
            );
        }
        match per_table
            .iter_mut()
            .find(|(t, _)| *t == value.secret.table())
        {
            Some((_, n)) => *n += 1,
            None => per_table.push((value.secret.table(), 1)),
        }
        updates.push((value.secret, rotated));
    }
    let count = updates.len();
    let written: Vec<SecretRef> = updates.iter().map(|(r, _)| r.clone()).collect();
    store
        .secrets()
        .replace_all(updates)
        .await
        .context("writing the re-encrypted secrets failed; nothing was changed")?;
    verify_written(store.as_ref(), &new, &written).await?;
    opened.close().await;

    let tables: Vec<String> = per_table.iter().map(|(t, n)| format!("{t}: {n}")).collect();
    println!("rotated {count} secrets ({})", tables.join(", "));
    println!(
        "next: set {KEY_VAR} to the new key (the value of {NEW_KEY_VAR}), remove \
         {NEW_KEY_VAR}, keep the old key in your backup until the gateway is verified, and \
         restart the gateway"
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads back what was written and checks every rotated value decrypts with the new key.
async fn verify_written(
    store: &dyn goclaw_core::Store,
    new: &SecretBox,
    written: &[SecretRef],
) -> anyhow::Result<()> {
    let stored = store
        .secrets()
        .list_encrypted()
        .await
        .context("cannot read back the re-encrypted secrets")?;
    for secret in written {
        let ok = stored
            .iter()
            .find(|v| &v.secret == secret)
            .is_some_and(|v| new.decrypt(&v.value).is_ok());
        if !ok {
            bail!(
                "{secret} does not decrypt with {NEW_KEY_VAR} after the rotation was written; \
                 check the database before restarting the gateway"
            );
        }
    }
    Ok(())
}
