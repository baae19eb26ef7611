DROP TABLE IF EXISTS vault_links;
DROP TABLE IF EXISTS vault_documents;
DROP TABLE IF EXISTS vault_documents_vec;
DROP TABLE IF EXISTS vault_documents_fts;
