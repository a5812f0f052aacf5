/*
 * ctl_commands.h - every hubctl command, one line each:
 *     CTL_COMMAND(group, sub or NULL, function, "usage")
 * The function is defined in its owner's hub/ctl_*.c (see ctl.h). No include
 * guard: hubctl.c includes this file twice, once to declare the functions and
 * once to build the command table. Keep each owner's lines in its own block
 * (blank lines between blocks let parallel edits merge cleanly).
 */

/* store: schema, organizations, credentials, audit chain (hub/ctl_core.c) */
CTL_COMMAND("migrate", NULL, ctl_migrate, "migrate [--dir DIR]   (default: $HUB_MIGRATIONS_DIR, else schemas/migrations)")
CTL_COMMAND("org", "add", ctl_org_add, "org add ID --name NAME --kind hospital|clinic|cbo|plan|state|operator --scopes ingest,subscribe,roster,report,admin [--labels sud,psy,...]   (labels: the sensitive data its subscriptions may opt in to)")
CTL_COMMAND("org", "update", ctl_org_update, "org update ID [--name NAME] [--scopes ingest,...] [--labels sud,psy,... | --labels '']   (new scopes hold at every hubd's next request: NOTIFY hub_auth)")
CTL_COMMAND("org", "list", ctl_org_list, "org list [--json]")
CTL_COMMAND("org", "authority", ctl_org_authority, "org authority ORG NAMESPACE (SYSTEM | --clear)   (what ORG means by its own authority name, e.g. HL7 v2 namespace MRN = urn:oid:...: its identifiers then link with everyone's)")
CTL_COMMAND("org", "authorities", ctl_org_authorities, "org authorities [ORG] [--json]")
CTL_COMMAND("token", "create", ctl_token_create, "token create ORG [--scopes ingest,...] [--expires-in DAYS]   (prints the token once)")
CTL_COMMAND("token", "list", ctl_token_list, "token list [--json]")
CTL_COMMAND("token", "revoke", ctl_token_revoke, "token revoke PREFIX   (every hubd refuses it at its next request: NOTIFY hub_auth empties their credential caches)")
CTL_COMMAND("cert", "bind", ctl_cert_bind, "cert bind ORG FINGERPRINT | cert bind ORG --cert file.pem")
CTL_COMMAND("cert", "fingerprint", ctl_cert_fingerprint, "cert fingerprint file.pem")
CTL_COMMAND("cert", "list", ctl_cert_list, "cert list [--json]")
CTL_COMMAND("cert", "revoke", ctl_cert_revoke, "cert revoke FINGERPRINT | cert revoke --cert file.pem   (every hubd refuses it at its next request, an open MLLP over TLS connection at its next frame: NOTIFY hub_auth)")
CTL_COMMAND("audit", "verify", ctl_audit_verify, "audit verify [--head SEQ:HASH] [--from SEQ:HASH] [--step N]   (exit 0: chain holds, 1: broken, 2: could not check)")
CTL_COMMAND("audit", "list", ctl_audit_list, "audit list [--patient HUBID | --identifier SYSTEM|VALUE] [--after SEQ] [--limit N] [--json]   (--identifier: a patient's id as a sender gives it, e.g. an MRN: the accounting of disclosures of the patients it names)")
CTL_COMMAND("quarantine", "list", ctl_quarantine_list, "quarantine list [--org ORG] [--before TIME] [--limit N] [--json]   (newest first; no message bytes)")
CTL_COMMAND("restored", NULL, ctl_restored, "restored [--gap N]   (after restoring the database from a backup, before hubd starts: moves the pull feed's cursors and the webhook-ids N (default 1000000000) past any issued before the restore; audited)")
CTL_COMMAND("quarantine", "show", ctl_quarantine_show, "quarantine show ID   (the message's bytes on stdout; the reading is audited)")

/* dispatch: subscriptions and deliveries (hub/ctl_subs.c) */
CTL_COMMAND("sub", "add", ctl_sub_add, "sub add --org ORG (--url URL | --pull) --topics adt.*,... [--orgs ..] [--facilities ..] [--patient-classes ..] [--domains ..] [--counties ..] [--sensitivity ..] [--secret whsec_..] [--client-cert P --client-key P] [--ca-bundle P] [--paused] [--idempotency-key KEY] | sub add --org ORG --json DOC [--idempotency-key KEY]")
CTL_COMMAND("sub", "list", ctl_sub_list, "sub list [--org ORG] [--json]")
CTL_COMMAND("sub", "get", ctl_sub_get, "sub get ID")
CTL_COMMAND("sub", "update", ctl_sub_update, "sub update ID --json DOC")
CTL_COMMAND("sub", "pause", ctl_sub_pause, "sub pause ID   (stops sending and retrying at once)")
CTL_COMMAND("sub", "resume", ctl_sub_resume, "sub resume ID")
CTL_COMMAND("sub", "delete", ctl_sub_delete, "sub delete ID")
CTL_COMMAND("sub", "test", ctl_sub_test, "sub test ID   (sends it a hub.test event, as any delivery)")
CTL_COMMAND("deliveries", "list", ctl_deliveries_list, "deliveries list [--subscription ID] [--status pending|delivering|delivered|failed|dead|cancelled] [--limit N] [--json]")
CTL_COMMAND("deliveries", "replay", ctl_deliveries_replay, "deliveries replay DLV_ID")
CTL_COMMAND("deliveries", "replay-range", ctl_deliveries_replay_range, "deliveries replay-range --subscription ID --from TIME --to TIME [--status dead|failed|delivered] [--max N]   (default: the dead letters)")

/* dictfhir: data dictionary (hub/ctl_dict.c) */
CTL_COMMAND("dict", "check", ctl_dict_check, "dict check [DIR]   (validate $HUB_DICT_DIR or schemas/dict; exit 1 names file, JSON path and problem)")
CTL_COMMAND("dict", "show", ctl_dict_show, "dict show [DIR]   (print every table of the data dictionary)")

/* a sender's sample, dry (hub/ctl_normalize.c) */
CTL_COMMAND("normalize", NULL, ctl_normalize, "normalize [--csv screenings|referral-status|shinny] [--config FILE] FILE...   (what hubd would make of a sample: events and the answer; stores nothing, needs no database; exit 1 when something is refused)")

/* retention (hub/ctl_prune.c) */
CTL_COMMAND("prune", NULL, ctl_prune, "prune [--dry-run] [--config FILE]   (the retention once, with hubd's settings: FILE, $HUB_CONFIG, HUB_RETAIN_*_DAYS)")

/* others: add your block above this line */
