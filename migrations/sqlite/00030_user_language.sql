-- +goose Up
-- The language a person chose for pages and emails: a shipped language's
-- BCP 47 tag, or '' to follow the browser's Accept-Language. A change moves
-- auth_version like the other account fields each server keeps in memory.
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';

DROP TRIGGER users_auth_version;
-- +goose StatementBegin
CREATE TRIGGER users_auth_version AFTER UPDATE OF email, name, time_zone, language, two_factor ON users
WHEN OLD.email IS NOT NEW.email OR OLD.name IS NOT NEW.name OR OLD.time_zone IS NOT NEW.time_zone
    OR OLD.language IS NOT NEW.language OR OLD.two_factor IS NOT NEW.two_factor
BEGIN
    UPDATE users SET auth_version = auth_version + 1 WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER users_auth_version;
-- +goose StatementBegin
CREATE TRIGGER users_auth_version AFTER UPDATE OF email, name, time_zone, two_factor ON users
WHEN OLD.email IS NOT NEW.email OR OLD.name IS NOT NEW.name OR OLD.time_zone IS NOT NEW.time_zone
    OR OLD.two_factor IS NOT NEW.two_factor
BEGIN
    UPDATE users SET auth_version = auth_version + 1 WHERE id = NEW.id;
END;
-- +goose StatementEnd
ALTER TABLE users DROP COLUMN language;
