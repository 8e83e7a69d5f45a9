-- +goose Up
-- An invite's email names its invite by id and keeps the accept link apart
-- from its bodies, so the members page can offer the link to share by hand
-- while the email is undelivered without reading it out of the text. The
-- store clears the link with the bodies once the email is delivered (or
-- given up after its link expired), and when the invite is resent,
-- accepted, declined or revoked.
ALTER TABLE mail_outbox ADD COLUMN invite_id BIGINT;
ALTER TABLE mail_outbox ADD COLUMN share_link TEXT NOT NULL DEFAULT '';
UPDATE mail_outbox SET invite_id = CAST(SUBSTRING(ref FROM 8) AS BIGINT)
    WHERE ref ~ '^invite:[0-9]{1,18}$';
-- The latest email of an invite.
CREATE INDEX mail_outbox_invite_idx ON mail_outbox (invite_id, id);

-- The link of each pending invite's latest undelivered email, from its
-- text: the line after "Accept the invite here:" (names, which come
-- before it, hold no line breaks).
UPDATE mail_outbox o SET share_link = COALESCE(SUBSTRING(o.text_body FROM E'\nAccept the invite here:\n\n([^\n]*)'), '')
    WHERE o.status <> 'sent'
    AND o.invite_id IN (SELECT id FROM invites WHERE status = 'pending')
    AND o.id = (SELECT MAX(l.id) FROM mail_outbox l WHERE l.invite_id = o.invite_id);
UPDATE mail_outbox SET share_link = ''
    WHERE share_link <> '' AND share_link !~ '^https?://\S*/invites/\S+$';

-- +goose Down
DROP INDEX mail_outbox_invite_idx;
ALTER TABLE mail_outbox DROP COLUMN share_link;
ALTER TABLE mail_outbox DROP COLUMN invite_id;
