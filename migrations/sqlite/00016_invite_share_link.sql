-- +goose Up
-- An invite's email names its invite by id and keeps the accept link apart
-- from its bodies, so the members page can offer the link to share by hand
-- while the email is undelivered without reading it out of the text. The
-- store clears the link with the bodies once the email is delivered (or
-- given up after its link expired), and when the invite is resent,
-- accepted, declined or revoked.
ALTER TABLE mail_outbox ADD COLUMN invite_id INTEGER;
ALTER TABLE mail_outbox ADD COLUMN share_link TEXT NOT NULL DEFAULT '';
UPDATE mail_outbox SET invite_id = CAST(SUBSTR(ref, 8) AS INTEGER)
    WHERE ref GLOB 'invite:[0-9]*' AND SUBSTR(ref, 8) NOT GLOB '*[^0-9]*';
-- The latest email of an invite.
CREATE INDEX mail_outbox_invite_idx ON mail_outbox (invite_id, id);

-- The link of each pending invite's latest undelivered email, from its
-- text: the line after "Accept the invite here:" (names, which come
-- before it, hold no line breaks).
UPDATE mail_outbox SET share_link = SUBSTR(text_body,
        INSTR(text_body, char(10) || 'Accept the invite here:' || char(10) || char(10)) + 26)
    WHERE status <> 'sent'
    AND INSTR(text_body, char(10) || 'Accept the invite here:' || char(10) || char(10)) > 0
    AND invite_id IN (SELECT id FROM invites WHERE status = 'pending')
    AND id = (SELECT MAX(o.id) FROM mail_outbox o WHERE o.invite_id = mail_outbox.invite_id);
UPDATE mail_outbox SET share_link = SUBSTR(share_link, 1, INSTR(share_link || char(10), char(10)) - 1)
    WHERE share_link <> '';
UPDATE mail_outbox SET share_link = ''
    WHERE share_link <> '' AND NOT (share_link GLOB 'http*://*/invites/*' AND share_link NOT GLOB '*[ 	]*');

-- +goose Down
DROP INDEX mail_outbox_invite_idx;
ALTER TABLE mail_outbox DROP COLUMN share_link;
ALTER TABLE mail_outbox DROP COLUMN invite_id;
