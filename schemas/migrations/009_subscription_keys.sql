-- 009_subscription_keys.sql - an Idempotency-Key on subscription creation
-- (F764).
--
-- POST /v1/subscriptions took no key: a create whose answer was lost (a
-- statement cut at db_statement_timeout after its commit, a link lost)
-- and that the client sent again made a second subscription, so every
-- routed event went twice to the same endpoint. With a key the retry is
-- answered with the first creation's subscription and creates nothing.
-- As the ingest routes do (IETF draft-ietf-httpapi-idempotency-key-header),
-- a key used again for another body is refused, never answered with the
-- first one's subscription.

-- One row per key a requester used (actor: the organization that sent the
-- request, or hubctl), for SUB_KEY_WINDOW (24 hours, hub_sub_create_keyed):
-- body_sha256 is the SHA-256 of the owner org, a newline and the body as
-- sent. Only a creation that committed leaves a row (a refused body
-- leaves none, so its corrected retry under the same key is created).
CREATE TABLE subscription_keys (
    actor           text NOT NULL,
    key             text NOT NULL,
    body_sha256     text NOT NULL,
    subscription_id text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor, key)
);

-- hub_sub_create() under key p_key of p_actor: sub, the subscription as
-- hub_sub_create() answers it (with its secrets), and replayed false when
-- this call made it; replayed true and sub the key's first subscription
-- as it is now (deleted_at when it was deleted since) when the key was
-- used within the window for the same body
-- (p_hash); differs true (sub NULL) when it was used for another one. A
-- concurrent create under the same key waits for the first's commit on
-- the primary key, then reads its row. The actor's keys past the window
-- are forgotten here (a requester's rows are at most a day of its
-- creations).
CREATE FUNCTION hub_sub_create_keyed(p_actor text, p_org text, p_doc jsonb,
    p_key text, p_hash text, OUT sub jsonb, OUT replayed boolean,
    OUT differs boolean)
LANGUAGE plpgsql AS $$
DECLARE
    k subscription_keys;
    s subscriptions;
BEGIN
    replayed := false;
    differs := false;
    DELETE FROM subscription_keys
     WHERE actor = p_actor AND created_at < now() - interval '24 hours';
    INSERT INTO subscription_keys (actor, key, body_sha256, subscription_id)
    VALUES (p_actor, p_key, p_hash, '')
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
        sub := hub_sub_create(p_actor, p_org, p_doc);
        UPDATE subscription_keys SET subscription_id = sub->>'id'
         WHERE actor = p_actor AND key = p_key;
        RETURN;
    END IF;
    SELECT * INTO k FROM subscription_keys
     WHERE actor = p_actor AND key = p_key;
    IF k.body_sha256 <> p_hash THEN
        differs := true;
        RETURN;
    END IF;
    -- subscriptions are deleted softly: the row is there; one deleted
    -- since says so (hub_sub_json leaves deleted_at out: it lists live
    -- ones), so that the replay is not taken for a live subscription
    SELECT * INTO s FROM subscriptions WHERE id = k.subscription_id;
    replayed := true;
    sub := hub_sub_json(s, true) || jsonb_strip_nulls(
        jsonb_build_object('deleted_at', s.deleted_at));
END $$;
