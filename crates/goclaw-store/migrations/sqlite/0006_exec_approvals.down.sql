DROP TABLE IF EXISTS exec_allowlist;
DROP TABLE IF EXISTS exec_approvals;
