-- The header values of `http` hooks leave `config` (where they now read "***") for `secrets`,
-- the secret box's encryption of them, which the start-up key check and key rotation see.
-- Hooks stored before this keep their values in `config` until they are next updated.

ALTER TABLE hooks ADD COLUMN secrets TEXT NOT NULL DEFAULT '';
