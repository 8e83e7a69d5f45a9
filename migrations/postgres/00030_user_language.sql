-- +goose Up
-- The language a person chose for pages and emails: a shipped language's
-- BCP 47 tag, or '' to follow the browser's Accept-Language. A change moves
-- auth_version like the other account fields each server keeps in memory.
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION users_auth_version() RETURNS trigger AS $$
BEGIN
    IF (OLD.email, OLD.name, OLD.time_zone, OLD.language, OLD.two_factor)
        IS DISTINCT FROM (NEW.email, NEW.name, NEW.time_zone, NEW.language, NEW.two_factor) THEN
        NEW.auth_version := OLD.auth_version + 1;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION users_auth_version() RETURNS trigger AS $$
BEGIN
    IF (OLD.email, OLD.name, OLD.time_zone, OLD.two_factor)
        IS DISTINCT FROM (NEW.email, NEW.name, NEW.time_zone, NEW.two_factor) THEN
        NEW.auth_version := OLD.auth_version + 1;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
ALTER TABLE users DROP COLUMN language;
