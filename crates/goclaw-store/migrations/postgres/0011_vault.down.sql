DROP TABLE IF EXISTS vault_links;
DROP TABLE IF EXISTS vault_documents;
