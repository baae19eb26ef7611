DROP TABLE tenant_users;
