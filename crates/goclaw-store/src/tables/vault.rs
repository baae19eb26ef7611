//! The knowledge vault: `vault_documents` (one per tenant, scope, owner and path; the owner as
//! text in `owner_key`, the lower-cased basename in `path_basename`, both computed here) and
//! `vault_links` (directed, unique per source, target and type, deleted with either end).
//!
//! A registration selects from `tenants` and checks a personal owner against `agents`, so
//! another tenant's or a deleted agent registers nothing (`NotFound("agent")`). Links are
//! written by selecting both ends inside the tenant, so a link never crosses tenants. Searches
//! run the statement pairs of `sql::retrieval` with the same parameters on either engine.

use async_trait::async_trait;
use goclaw_core::{
    AgentId, NewVaultDocument, NewVaultLink, ScoredVaultDocument, StoreError, TenantId,
    VaultBacklink, VaultDocument, VaultFilter, VaultLink, VaultOwner, VaultScope, VaultStore,
    VaultView,
};
use serde_json::Value;
use uuid::Uuid;

use super::SqlStore;
use crate::error::store_error;
use crate::sql::{
    Param, Record, Row, Statement, VAULT_COLUMNS, VAULT_SEARCH_TEXT, VAULT_SEARCH_VECTOR,
};

const ENTITY: &str = "vault document";
const LINK_COLUMNS: &str =
    "l.id, l.from_doc_id, l.to_doc_id, l.link_type, l.context, l.metadata, l.created_at";
/// The columns an `INSERT` or `UPDATE` returns (unqualified: SQLite's `RETURNING` names only
/// the table it changes).
const DOCUMENT_RETURNING: &str = "id, tenant_id, agent_id, team_id, scope, path, title, doc_type, \
                                  content_hash, summary, metadata, created_at, updated_at";
const LINK_RETURNING: &str = "id, from_doc_id, to_doc_id, link_type, context, metadata, created_at";
/// The documents a view sees; parameters: tenant, agent (or NULL) twice.
const IN_VIEW: &str = "d.tenant_id = ? \
                       AND (? IS NULL OR d.scope = 'shared' OR (d.scope = 'personal' AND d.agent_id = ?))";
/// sqlite-vec answers at most this many neighbours per query; both engines are held to it.
const MAX_NEIGHBOURS: u32 = 4096;

static UPSERT: Statement = Statement::joined(&[
    "INSERT INTO vault_documents (id, tenant_id, agent_id, team_id, scope, owner_key, path, \
     path_basename, title, doc_type, content_hash, summary, metadata, created_at, updated_at) \
     SELECT ?, t.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now}, {now} FROM tenants t \
     WHERE t.id = ? AND (? IS NULL OR EXISTS (SELECT 1 FROM agents a \
     WHERE a.id = ? AND a.tenant_id = t.id AND a.deleted_at IS NULL)) \
     ON CONFLICT (tenant_id, scope, owner_key, path) DO UPDATE SET \
     title = excluded.title, doc_type = excluded.doc_type, \
     content_hash = excluded.content_hash, summary = excluded.summary, \
     metadata = excluded.metadata, updated_at = excluded.updated_at \
     RETURNING ",
    DOCUMENT_RETURNING,
]);
static GET: Statement = Statement::joined(&[
    "SELECT ",
    VAULT_COLUMNS,
    " FROM vault_documents d WHERE d.tenant_id = ? AND d.id = ?",
]);
static FIND: Statement = Statement::joined(&[
    "SELECT ",
    VAULT_COLUMNS,
    " FROM vault_documents d WHERE d.tenant_id = ? AND d.scope = ? AND d.owner_key = ? \
     AND d.path = ?",
]);
static LOOKUP_PATH: Statement = Statement::joined(&[
    "SELECT ",
    VAULT_COLUMNS,
    " FROM vault_documents d WHERE ",
    IN_VIEW,
    " AND d.path = ? ORDER BY d.scope = 'shared', d.path {bytewise}, d.id",
]);
static LOOKUP_BASENAME: Statement = Statement::joined(&[
    "SELECT ",
    VAULT_COLUMNS,
    " FROM vault_documents d WHERE ",
    IN_VIEW,
    " AND d.path_basename = ? ORDER BY d.scope = 'shared', d.path {bytewise}, d.id",
]);
static PERSONAL_UNDER: Statement = Statement::new(
    "SELECT 1 AS found FROM vault_documents WHERE tenant_id = ? AND scope = 'personal' \
     AND substr(path, 1, length(?)) = ? LIMIT 1",
);
static DELETE: Statement =
    Statement::new("DELETE FROM vault_documents WHERE tenant_id = ? AND id = ?");
static MOVE: Statement = Statement::joined(&[
    "UPDATE vault_documents SET path = ?, path_basename = ?, title = ?, updated_at = {now} \
     WHERE tenant_id = ? AND id = ? RETURNING ",
    DOCUMENT_RETURNING,
]);
static SET_EMBEDDING: Statement =
    Statement::new("UPDATE vault_documents SET embedding = ? WHERE tenant_id = ? AND id = ?");
static SET_SUMMARY: Statement = Statement::new(
    "UPDATE vault_documents SET summary = ?, updated_at = {now} WHERE tenant_id = ? AND id = ?",
);
static DELETE_LINKS_OF_TYPE: Statement = Statement::new(
    "DELETE FROM vault_links WHERE tenant_id = ? AND from_doc_id = ? AND link_type = ?",
);
static DELETE_SIMILAR_INTO: Statement = Statement::new(
    "DELETE FROM vault_links WHERE tenant_id = ? AND to_doc_id = ? AND link_type = 'similar'",
);
static INSERT_LINK: Statement = Statement::joined(&[
    "INSERT INTO vault_links (id, tenant_id, from_doc_id, to_doc_id, link_type, context, \
     metadata, created_at) \
     SELECT ?, f.tenant_id, f.id, t.id, ?, ?, '{}', {now} \
     FROM vault_documents f, vault_documents t \
     WHERE f.tenant_id = ? AND f.id = ? AND t.tenant_id = f.tenant_id AND t.id = ? \
     ON CONFLICT (from_doc_id, to_doc_id, link_type) DO NOTHING RETURNING ",
    LINK_RETURNING,
]);
static OUT_LINKS: Statement = Statement::joined(&[
    "SELECT ",
    LINK_COLUMNS,
    " FROM vault_links l WHERE l.tenant_id = ? AND l.from_doc_id = ? \
     ORDER BY l.created_at, l.id",
]);
static UPDATE: Statement = Statement::joined(&[
    "UPDATE vault_documents SET title = ?, doc_type = ?, metadata = ?, updated_at = {now} \
     WHERE tenant_id = ? AND id = ? RETURNING ",
    DOCUMENT_RETURNING,
]);
static ADD_LINK: Statement = Statement::joined(&[
    "INSERT INTO vault_links (id, tenant_id, from_doc_id, to_doc_id, link_type, context, \
     metadata, created_at) \
     SELECT ?, f.tenant_id, f.id, t.id, ?, ?, '{}', {now} \
     FROM vault_documents f, vault_documents t \
     WHERE f.tenant_id = ? AND f.id = ? AND t.tenant_id = f.tenant_id AND t.id = ? \
     ON CONFLICT (from_doc_id, to_doc_id, link_type) DO UPDATE SET context = excluded.context \
     RETURNING ",
    LINK_RETURNING,
]);
static GET_LINK: Statement = Statement::joined(&[
    "SELECT ",
    LINK_COLUMNS,
    " FROM vault_links l WHERE l.tenant_id = ? AND l.id = ?",
]);
static DELETE_LINK: Statement =
    Statement::new("DELETE FROM vault_links WHERE tenant_id = ? AND id = ?");
static BACKLINKS: Statement = Statement::new(
    "SELECT l.from_doc_id, l.context, d.title, d.path, d.team_id \
     FROM vault_links l JOIN vault_documents d ON d.id = l.from_doc_id \
     WHERE l.tenant_id = ? AND l.to_doc_id = ? ORDER BY d.path {bytewise}, l.id",
);

impl Record for VaultDocument {
    const TABLE: &'static str = "vault_documents";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(VaultDocument {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            agent_id: row.opt_id("agent_id")?,
            team_id: row.opt_id("team_id")?,
            scope: row.parse("scope", VaultScope::parse)?,
            path: row.text("path")?,
            title: row.text("title")?,
            doc_type: row.text("doc_type")?,
            content_hash: row.text("content_hash")?,
            summary: row.text("summary")?,
            metadata: row.json("metadata")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Record for VaultLink {
    const TABLE: &'static str = "vault_links";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(VaultLink {
            id: row.id("id")?,
            from_doc_id: row.id("from_doc_id")?,
            to_doc_id: row.id("to_doc_id")?,
            link_type: row.text("link_type")?,
            context: row.text("context")?,
            metadata: row.json("metadata")?,
            created_at: row.time("created_at")?,
        })
    }
}

impl Record for VaultBacklink {
    const TABLE: &'static str = "vault_links";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(VaultBacklink {
            from_doc_id: row.id("from_doc_id")?,
            context: row.text("context")?,
            title: row.text("title")?,
            path: row.text("path")?,
            team_id: row.opt_id("team_id")?,
        })
    }
}

/// The lower-cased last segment of a `/`-separated path.
fn basename(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_lowercase()
}

fn view_params(view: &VaultView) -> [Param<'static>; 3] {
    [view.tenant.into(), view.agent.into(), view.agent.into()]
}

/// `WHERE` of a listing and its parameters, after [`IN_VIEW`]'s.
fn filtered(filter: &VaultFilter) -> (String, Vec<Param<'_>>) {
    let mut sql = String::new();
    let mut params = Vec::new();
    if let Some(scope) = filter.scope {
        sql.push_str(" AND d.scope = ?");
        params.push(scope.as_str().into());
    }
    if !filter.doc_types.is_empty() {
        let marks = vec!["?"; filter.doc_types.len()].join(", ");
        sql.push_str(&format!(" AND d.doc_type IN ({marks})"));
        params.extend(filter.doc_types.iter().map(|t| Param::from(t.as_str())));
    }
    (sql, params)
}

impl SqlStore {
    async fn scored_documents(
        &self,
        statement: &Statement,
        params: &[Param<'_>],
        score: impl Fn(&Row<'_>) -> Result<f64, StoreError>,
    ) -> Result<Vec<ScoredVaultDocument>, StoreError> {
        self.pool
            .fetch_all(statement, params)
            .await
            .map_err(|e| store_error(e, ENTITY))?
            .map(VaultDocument::TABLE, |row| {
                Ok(ScoredVaultDocument {
                    document: VaultDocument::from_row(row)?,
                    score: score(row)?,
                })
            })
    }
}

#[async_trait]
impl VaultStore for SqlStore {
    async fn upsert_document(
        &self,
        document: NewVaultDocument,
    ) -> Result<VaultDocument, StoreError> {
        let owner = document.owner;
        let owner_key = owner.key();
        let path_basename = basename(&document.path);
        let agent: Option<AgentId> = owner.agent_id();
        let params = [
            Uuid::now_v7().into(),
            agent.into(),
            owner.team_id().into(),
            owner.scope().as_str().into(),
            owner_key.as_str().into(),
            document.path.as_str().into(),
            path_basename.as_str().into(),
            document.title.as_str().into(),
            document.doc_type.as_str().into(),
            document.content_hash.as_str().into(),
            document.summary.as_str().into(),
            (&document.metadata).into(),
            document.tenant.into(),
            agent.into(),
            agent.into(),
        ];
        self.pool
            .fetch_optional(&UPSERT, &params)
            .await
            .map_err(|e| store_error(e, ENTITY))?
            .ok_or(StoreError::NotFound("agent"))?
            .decode()
    }

    async fn get_document(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<VaultDocument>, StoreError> {
        self.pool
            .fetch_optional(&GET, &[tenant.into(), id.into()])
            .await
            .map_err(|e| store_error(e, ENTITY))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn find_document(
        &self,
        tenant: TenantId,
        owner: &VaultOwner,
        path: &str,
    ) -> Result<Option<VaultDocument>, StoreError> {
        let key = owner.key();
        let params = [
            tenant.into(),
            owner.scope().as_str().into(),
            key.as_str().into(),
            path.into(),
        ];
        self.pool
            .fetch_optional(&FIND, &params)
            .await
            .map_err(|e| store_error(e, ENTITY))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn lookup(
        &self,
        view: &VaultView,
        path: &str,
        by_basename: bool,
    ) -> Result<Vec<VaultDocument>, StoreError> {
        let [tenant, agent, again] = view_params(view);
        let statement = if by_basename {
            &LOOKUP_BASENAME
        } else {
            &LOOKUP_PATH
        };
        self.pool
            .fetch_all(statement, &[tenant, agent, again, path.into()])
            .await
            .map_err(|e| store_error(e, ENTITY))?
            .decode()
    }

    async fn has_personal_under(&self, tenant: TenantId, prefix: &str) -> Result<bool, StoreError> {
        let found = self
            .pool
            .fetch_optional(
                &PERSONAL_UNDER,
                &[tenant.into(), prefix.into(), prefix.into()],
            )
            .await
            .map_err(|e| store_error(e, ENTITY))?;
        Ok(found.is_some())
    }

    async fn delete_document(&self, tenant: TenantId, id: Uuid) -> Result<bool, StoreError> {
        let deleted = self
            .pool
            .execute(&DELETE, &[tenant.into(), id.into()])
            .await
            .map_err(|e| store_error(e, ENTITY))?;
        Ok(deleted > 0)
    }

    async fn move_document(
        &self,
        tenant: TenantId,
        id: Uuid,
        path: &str,
        title: &str,
    ) -> Result<VaultDocument, StoreError> {
        let path_basename = basename(path);
        let params = [
            path.into(),
            path_basename.as_str().into(),
            title.into(),
            tenant.into(),
            id.into(),
        ];
        self.pool
            .fetch_optional(&MOVE, &params)
            .await
            .map_err(|e| store_error(e, ENTITY))?
            .ok_or(StoreError::NotFound(ENTITY))?
            .decode()
    }

    async fn list_documents(
        &self,
        view: &VaultView,
        filter: &VaultFilter,
    ) -> Result<Vec<VaultDocument>, StoreError> {
        let (narrowing, extra) = filtered(filter);
        let statement = Statement::dynamic(format!(
            "SELECT {VAULT_COLUMNS} FROM vault_documents d WHERE {IN_VIEW}{narrowing} \
             ORDER BY d.path {{bytewise}}, d.id LIMIT ? OFFSET ?"
        ));
        let mut params = view_params(view).to_vec();
        params.extend(extra);
        params.push(i64::from(filter.limit).into());
        params.push(i64::from(filter.offset).into());
        self.pool
            .fetch_all(&statement, &params)
            .await
            .map_err(|e| store_error(e, ENTITY))?
            .decode()
    }

    async fn count_documents(
        &self,
        view: &VaultView,
        filter: &VaultFilter,
    ) -> Result<u64, StoreError> {
        let (narrowing, extra) = filtered(filter);
        let statement = Statement::dynamic(format!(
            "SELECT COUNT(*) AS n FROM vault_documents d WHERE {IN_VIEW}{narrowing}"
        ));
        let mut params = view_params(view).to_vec();
        params.extend(extra);
        let row = self
            .pool
            .fetch_one(&statement, &params)
            .await
            .map_err(|e| store_error(e, ENTITY))?;
        let n = row.read(VaultDocument::TABLE).int("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn search_text(
        &self,
        view: &VaultView,
        query: &str,
        limit: u32,
    ) -> Result<Vec<ScoredVaultDocument>, StoreError> {
        // Without a word there is nothing to match (and FTS5 refuses an empty query).
        if limit == 0 || !query.chars().any(char::is_alphanumeric) {
            return Ok(Vec::new());
        }
        let [tenant, agent, again] = view_params(view);
        let params = [
            Param::Words(query),
            tenant,
            agent,
            again,
            i64::from(limit).into(),
        ];
        self.scored_documents(&VAULT_SEARCH_TEXT, &params, |row| row.real("score"))
            .await
    }

    async fn search_vector(
        &self,
        tenant: TenantId,
        agent: AgentId,
        embedding: &[f32],
        limit: u32,
    ) -> Result<Vec<ScoredVaultDocument>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let params = [
            embedding.into(),
            tenant.into(),
            agent.into(),
            i64::from(limit.min(MAX_NEIGHBOURS)).into(),
        ];
        self.scored_documents(&VAULT_SEARCH_VECTOR, &params, |row| {
            Ok(1.0 - row.real("distance")?)
        })
        .await
    }

    async fn set_embedding(
        &self,
        tenant: TenantId,
        id: Uuid,
        embedding: Option<&[f32]>,
    ) -> Result<(), StoreError> {
        let updated = self
            .pool
            .execute(
                &SET_EMBEDDING,
                &[embedding.into(), tenant.into(), id.into()],
            )
            .await
            .map_err(|e| store_error(e, ENTITY))?;
        if updated == 0 {
            return Err(StoreError::NotFound(ENTITY));
        }
        Ok(())
    }

    async fn replace_wikilinks(
        &self,
        tenant: TenantId,
        from: Uuid,
        links: &[NewVaultLink],
    ) -> Result<Vec<VaultLink>, StoreError> {
        self.replace_links(tenant, from, "wikilink", links).await
    }

    async fn set_summary(
        &self,
        tenant: TenantId,
        id: Uuid,
        summary: &str,
    ) -> Result<(), StoreError> {
        let updated = self
            .pool
            .execute(&SET_SUMMARY, &[summary.into(), tenant.into(), id.into()])
            .await
            .map_err(|e| store_error(e, ENTITY))?;
        if updated == 0 {
            return Err(StoreError::NotFound(ENTITY));
        }
        Ok(())
    }

    async fn replace_similar_links(
        &self,
        tenant: TenantId,
        from: Uuid,
        links: &[NewVaultLink],
    ) -> Result<Vec<VaultLink>, StoreError> {
        self.replace_links(tenant, from, "similar", links).await
    }

    async fn out_links(&self, tenant: TenantId, id: Uuid) -> Result<Vec<VaultLink>, StoreError> {
        self.pool
            .fetch_all(&OUT_LINKS, &[tenant.into(), id.into()])
            .await
            .map_err(|e| store_error(e, "vault link"))?
            .decode()
    }

    async fn update_document(
        &self,
        tenant: TenantId,
        id: Uuid,
        title: &str,
        doc_type: &str,
        metadata: &Value,
    ) -> Result<Option<VaultDocument>, StoreError> {
        let params = [
            title.into(),
            doc_type.into(),
            metadata.into(),
            tenant.into(),
            id.into(),
        ];
        self.pool
            .fetch_optional(&UPDATE, &params)
            .await
            .map_err(|e| store_error(e, ENTITY))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn add_link(
        &self,
        tenant: TenantId,
        from: Uuid,
        to: Uuid,
        link_type: &str,
        context: &str,
    ) -> Result<Option<VaultLink>, StoreError> {
        let params = [
            Uuid::now_v7().into(),
            link_type.into(),
            context.into(),
            tenant.into(),
            from.into(),
            to.into(),
        ];
        self.pool
            .fetch_optional(&ADD_LINK, &params)
            .await
            .map_err(|e| store_error(e, "vault link"))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn get_link(&self, tenant: TenantId, id: Uuid) -> Result<Option<VaultLink>, StoreError> {
        self.pool
            .fetch_optional(&GET_LINK, &[tenant.into(), id.into()])
            .await
            .map_err(|e| store_error(e, "vault link"))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn delete_link(&self, tenant: TenantId, id: Uuid) -> Result<bool, StoreError> {
        let deleted = self
            .pool
            .execute(&DELETE_LINK, &[tenant.into(), id.into()])
            .await
            .map_err(|e| store_error(e, "vault link"))?;
        Ok(deleted > 0)
    }

    async fn backlinks(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Vec<VaultBacklink>, StoreError> {
        self.pool
            .fetch_all(&BACKLINKS, &[tenant.into(), id.into()])
            .await
            .map_err(|e| store_error(e, "vault link"))?
            .decode()
    }
}

impl SqlStore {
    /// Replaces the outgoing links of `link_type` of a document, in one transaction. `similar`
    /// is symmetric: the links into the document are replaced too, by the reverse of `links`.
    async fn replace_links(
        &self,
        tenant: TenantId,
        from: Uuid,
        link_type: &str,
        links: &[NewVaultLink],
    ) -> Result<Vec<VaultLink>, StoreError> {
        let db_error = |e| store_error(e, "vault link");
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        tx.execute(
            &DELETE_LINKS_OF_TYPE,
            &[tenant.into(), from.into(), link_type.into()],
        )
        .await
        .map_err(db_error)?;
        let symmetric = link_type == "similar";
        if symmetric {
            tx.execute(&DELETE_SIMILAR_INTO, &[tenant.into(), from.into()])
                .await
                .map_err(db_error)?;
        }
        let mut stored = Vec::with_capacity(links.len());
        let mut seen = std::collections::HashSet::new();
        for link in links.iter().filter(|l| seen.insert(l.to_doc_id)) {
            let params = [
                Uuid::now_v7().into(),
                link_type.into(),
                link.context.as_str().into(),
                tenant.into(),
                from.into(),
                link.to_doc_id.into(),
            ];
            let row = tx
                .fetch_optional(&INSERT_LINK, &params)
                .await
                .map_err(db_error)?
                .ok_or(StoreError::NotFound(ENTITY))?;
            stored.push(row.decode()?);
            if symmetric {
                let reverse = [
                    Uuid::now_v7().into(),
                    link_type.into(),
                    link.context.as_str().into(),
                    tenant.into(),
                    link.to_doc_id.into(),
                    from.into(),
                ];
                tx.fetch_optional(&INSERT_LINK, &reverse)
                    .await
                    .map_err(db_error)?;
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::basename;

    #[test]
    fn basenames_are_the_lower_cased_last_segment() {
        for (path, expected) in [
            ("a/b/Plan.md", "plan.md"),
            ("Plan.MD", "plan.md"),
            ("a/", ""),
            ("ÄRGER/Übung.md", "übung.md"),
        ] {
            assert_eq!(basename(path), expected, "{path}");
        }
    }
}
